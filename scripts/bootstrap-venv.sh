#!/usr/bin/env bash
# Build .venv/ with the real QIIME 2 2022.11.1 framework and q2cli, taken from
# Debian bookworm's archive (QIIME 2 is not on PyPI), plus the pinned Python
# dependencies of the framework and of q2-parallel.  Every step is skipped when
# its result is already there, so a second run is quick and changes nothing.
# The system's apt sources and Python are never touched: apt runs with a
# private configuration under .venv/.apt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
QIIME_DEB_VERSION=2022.11.1-2
SITE=$VENV/lib/python3.11/site-packages

die() {
    printf 'bootstrap-venv: error: %s\n' "$*" >&2
    exit 1
}

find_python311() {
    local candidate
    for candidate in "${PYTHON311:-}" "$(command -v python3.11 || true)" \
                     "$HOME"/.pyenv/versions/3.11.*/bin/python3.11; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' \
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
    python=$(find_python311) || die "no Python 3.11 interpreter found.
QIIME 2 2022.11 needs Python 3.11 (pandas 1.5 has no wheels for newer Pythons).
Install one (e.g. 'pyenv install 3.11') or point PYTHON311 at it, then run 'make dev' again."
    "$python" -c 'import ctypes' 2>/dev/null || die "$python cannot import ctypes.
Install Debian's libffi8 ('apt-get install libffi8'), then run 'make dev' again."
    echo "bootstrap-venv: creating $VENV with $python"
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
QIIME 2 2022.11 is taken from Debian bookworm's archive; configure a Debian mirror for apt, then run 'make dev' again."
    echo "$uri"
}

install_qiime_debs() {
    if [ -f "$SITE/qiime2/__init__.py" ] && [ -f "$SITE/q2cli/__init__.py" ]; then
        return 0
    fi
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
        || die "apt-get and dpkg-deb are needed to fetch QIIME 2 2022.11 from Debian's archive."
    local apt=$VENV/.apt mirror
    mirror=$(debian_mirror)
    mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/debs" "$apt/unpacked"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" \
        > "$apt/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list"
                -o "Dir::Etc::sourceparts=/nonexistent"
                -o "Dir::State::Lists=$apt/lists"
                -o "Dir::Cache::pkgcache=$apt/pkgcache.bin"
                -o "Dir::Cache::srcpkgcache=$apt/srcpkgcache.bin"
                -o "Dir::Cache::archives=$apt/archives"
                -o "APT::Sandbox::User=root")
    echo "bootstrap-venv: fetching qiime and q2cli $QIIME_DEB_VERSION from $mirror (bookworm)"
    apt-get -q "${opts[@]}" update >"$apt/update.log" 2>&1 \
        || die "apt-get update of Debian bookworm from $mirror failed (log: $apt/update.log)."
    (cd "$apt/debs" && apt-get -q "${opts[@]}" download \
        "qiime=$QIIME_DEB_VERSION" "q2cli=$QIIME_DEB_VERSION") >"$apt/download.log" 2>&1 \
        || die "apt-get download of qiime and q2cli $QIIME_DEB_VERSION from $mirror (bookworm) failed (log: $apt/download.log).
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
    if [ -f "$stamp" ] && cmp -s "$ROOT/requirements.txt" "$stamp"; then
        return 0
    fi
    echo "bootstrap-venv: installing pinned requirements"
    "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements.txt" \
        >"$VENV/.requirements-install.log" 2>&1 \
        || die "pip could not install requirements.txt into $VENV (log: $VENV/.requirements-install.log)."
    cp "$ROOT/requirements.txt" "$stamp"
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
