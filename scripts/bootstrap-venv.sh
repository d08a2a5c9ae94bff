#!/usr/bin/env bash
# Build the venv of one environment profile (profiles/PROFILE.env, default
# debian-2022.11): the real QIIME 2 framework and q2cli, taken from Debian's
# archive (QIIME 2 is not on PyPI), plus the profile's pinned Python
# dependencies (profiles/PROFILE.txt) and q2-parallel in development mode.
# Every step is skipped when its result is already there, so a second run is
# quick and changes nothing.  The system's apt sources and Python are never
# touched: apt runs with a private configuration under the venv's .apt/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE=${1:-debian-2022.11}

die() {
    printf 'bootstrap-venv: error: %s\n' "$*" >&2
    exit 1
}

[ -f "$ROOT/profiles/$PROFILE.env" ] \
    || die "no environment profile '$PROFILE' (profiles: $(cd "$ROOT/profiles" && ls *.env | sed 's/\.env$//' | tr '\n' ' '))."
# shellcheck source=/dev/null
. "$ROOT/profiles/$PROFILE.env"
REQUIREMENTS=$ROOT/profiles/$PROFILE.txt
VENV=${VENV:-$ROOT/$VENV_NAME}
SITE=$VENV/lib/python$PYTHON_VERSION/site-packages
# PYTHON311, PYTHON38, ...: the interpreter to use for this profile.
PYTHON_OVERRIDE_VAR=PYTHON${PYTHON_VERSION//./}

find_python() {
    local candidate
    for candidate in "${!PYTHON_OVERRIDE_VAR:-}" \
                     "$(command -v "python$PYTHON_VERSION" || true)" \
                     "$HOME"/.pyenv/versions/"$PYTHON_VERSION".*/bin/python"$PYTHON_VERSION"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$PYTHON_VERSION'" \
                2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

make_venv() {
    [ -x "$VENV/bin/python" ] && return 0
    local python
    python=$(find_python) || die "no Python $PYTHON_VERSION interpreter found for the $PROFILE profile.
Install one (e.g. 'pyenv install $PYTHON_VERSION') or point $PYTHON_OVERRIDE_VAR at it, then run 'make dev' again."
    "$python" -c 'import ctypes' 2>/dev/null || die "$python cannot import ctypes.
Install Debian's libffi8 ('apt-get install libffi8'), then run 'make dev' again."
    echo "bootstrap-venv: creating $VENV ($PROFILE) with $python"
    "$python" -m venv "$VENV"
}

# The mirror the machine already uses, read from its apt sources
# (DEBIAN_MIRROR overrides it).
debian_mirror() {
    local uri=${DEBIAN_MIRROR:-}
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
              /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list.
QIIME 2 is taken from Debian's archive ($DEBIAN_SUITE); configure a Debian mirror for apt, then run 'make dev' again."
    echo "$uri"
}

install_qiime_debs() {
    if [ -f "$SITE/qiime2/__init__.py" ] && [ -f "$SITE/q2cli/__init__.py" ]; then
        return 0
    fi
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
        || die "apt-get and dpkg-deb are needed to fetch QIIME 2 from Debian's archive."
    local apt=$VENV/.apt mirror
    mirror=$(debian_mirror)
    mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/debs" "$apt/unpacked"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $DEBIAN_SUITE main" \
        > "$apt/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list"
                -o "Dir::Etc::sourceparts=/nonexistent"
                -o "Dir::State::Lists=$apt/lists"
                -o "Dir::Cache::pkgcache=$apt/pkgcache.bin"
                -o "Dir::Cache::srcpkgcache=$apt/srcpkgcache.bin"
                -o "Dir::Cache::archives=$apt/archives"
                -o "APT::Sandbox::User=root")
    echo "bootstrap-venv: fetching $QIIME_DEB and $Q2CLI_DEB from $mirror ($DEBIAN_SUITE)"
    apt-get -q "${opts[@]}" update >"$apt/update.log" 2>&1 \
        || die "apt-get update of Debian $DEBIAN_SUITE from $mirror failed (log: $apt/update.log)."
    (cd "$apt/debs" && apt-get -q "${opts[@]}" download "$QIIME_DEB" "$Q2CLI_DEB") \
        >"$apt/download.log" 2>&1 \
        || die "apt-get download of $QIIME_DEB and $Q2CLI_DEB from $mirror ($DEBIAN_SUITE) failed (log: $apt/download.log).
Check that this machine reaches that Debian mirror (set DEBIAN_MIRROR to use another one), then run 'make dev' again."
    local deb
    for deb in "$apt"/debs/*.deb; do
        dpkg-deb -x "$deb" "$apt/unpacked"
    done
    cp -r "$apt"/unpacked/usr/lib/python3/dist-packages/* "$SITE/"
    rm -rf "$apt/unpacked" "$apt/lists" "$apt"/*.bin
}

install_requirements() {
    local stamp=$VENV/.requirements-installed
    if [ -f "$stamp" ] && cmp -s "$REQUIREMENTS" "$stamp"; then
        return 0
    fi
    echo "bootstrap-venv: installing the pinned requirements of $PROFILE"
    "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS" \
        >"$VENV/.requirements-install.log" 2>&1 \
        || die "pip could not install $REQUIREMENTS into $VENV (log: $VENV/.requirements-install.log)."
    cp "$REQUIREMENTS" "$stamp"
}

install_package() {
    local stamp=$VENV/.package-installed
    if [ -f "$stamp" ] && [ "$stamp" -nt "$ROOT/setup.py" ] \
            && [ "$stamp" -nt "$ROOT/tests/testplugin/setup.py" ]; then
        return 0
    fi
    echo "bootstrap-venv: installing q2-parallel and its test plugin in development mode"
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation \
        -e "$ROOT" -e "$ROOT/tests/testplugin" >"$VENV/.package-install.log" 2>&1 \
        || die "pip could not install q2-parallel into $VENV (log: $VENV/.package-install.log)."
    touch "$stamp"
}

write_qiime_command() {
    local qiime=$VENV/bin/qiime
    [ -x "$qiime" ] && return 0
    cat > "$qiime" <<SCRIPT
#!$VENV/bin/python
import sys
from q2cli.__main__ import qiime
sys.exit(qiime())
SCRIPT
    chmod +x "$qiime"
}

make_venv
install_qiime_debs
install_requirements
install_package
write_qiime_command
