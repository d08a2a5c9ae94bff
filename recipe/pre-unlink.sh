#!/bin/bash
# conda runs this before unlinking q2-parallel from $PREFIX: on uninstall,
# and as the first half of an upgrade or reinstall.
#
# Removes $PREFIX/etc/qiime2_config.toml only if post-link.sh wrote it and it
# is still byte for byte what was written (the checksum next to it says so):
# an uninstall leaves nothing of ours behind, and an upgrade gets the new
# release's default. A file that was edited, or that post-link.sh did not
# write (the user's, or one `--parallel` wrote on first use), is kept.
#
# Always exits 0: a non-zero exit would make conda refuse the removal.

config="$PREFIX/etc/qiime2_config.toml"
checksum="$config.sha256"

[ -f "$checksum" ] || exit 0

tell() {
    printf 'q2-parallel: %s\n' "$*" >> "$PREFIX/.messages.txt"
}

current=$("$PREFIX/bin/python" -I -c '
import hashlib, sys
with open(sys.argv[1], "rb") as handle:
    print(hashlib.sha256(handle.read()).hexdigest())' "$config" 2>/dev/null)

if [ -n "$current" ] && [ "$current" = "$(cat "$checksum")" ]; then
    rm -f "$config"
    tell "removed the default parallel config $config (it was unedited)."
elif [ -f "$config" ]; then
    tell "kept the parallel config $config: it was edited after install (or
    could not be checked). Delete it yourself if it is no longer wanted."
fi
rm -f "$checksum"
exit 0
