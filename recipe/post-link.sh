#!/bin/bash
# conda runs this after linking q2-parallel into the environment at $PREFIX.
#
# Writes the default parallel config to $PREFIX/etc/qiime2_config.toml, the
# path of lookup step 4, with the package's own write_default_config (so it
# is byte for byte what `--parallel` would write on first use): atomically,
# and never over a file that is already there, so a user's edits survive
# reinstalls and upgrades. A checksum of what was written goes next to it,
# for pre-unlink.sh to tell an untouched default from an edited file.
#
# A non-zero exit would make conda abort the install, and the config is a
# convenience (the lookup writes or uses the same default when it is
# missing): so this always exits 0, and says what went wrong in
# $PREFIX/.messages.txt, which conda prints when it is done.

config="$PREFIX/etc/qiime2_config.toml"
python="$PREFIX/bin/python"

tell() {
    printf 'q2-parallel: %s\n' "$*" >> "$PREFIX/.messages.txt"
}

not_written() {
    tell "WARNING: the default parallel config was NOT written to $config: $*
    Nothing else is affected: \`qiime ... --parallel\` and ParallelConfig() write
    it on first use, or use the same default from memory. To write it yourself:
    python -m q2_parallel.config init \"$config\""
    exit 0
}

[ -x "$python" ] || not_written "$python was not found."
mkdir -p "$PREFIX/etc" 2>/dev/null || not_written "$PREFIX/etc could not be created."

# -I: only this environment's packages, whatever PYTHONPATH or the cwd hold.
if ! outcome=$("$python" -I - "$config" 2>&1 <<'PYTHON'
import hashlib
import sys

from q2_parallel.config import ConfigError, write_default_config

path = sys.argv[1]
try:
    written = write_default_config(path)
except ConfigError as error:
    sys.exit(str(error))
if written:
    with open(path, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    try:
        with open(path + '.sha256', 'w') as handle:
            handle.write(digest + '\n')
    except OSError:
        pass  # without it, pre-unlink keeps the file: harmless
print('written' if written else 'kept')
PYTHON
); then
    not_written "$(printf '%s' "$outcome" | tail -n 1)"
fi

case "$outcome" in
    written) tell "wrote the default parallel config to $config
    (used by \`qiime ... --parallel\` and ParallelConfig() when no other config
    is found). Edit it freely: reinstalls and upgrades keep an edited file." ;;
    *) tell "kept the parallel config already at $config." ;;
esac
exit 0
