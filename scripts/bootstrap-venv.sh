#!/usr/bin/env bash
# Build the venv of one environment profile (profiles/PROFILE.env, default
# debian-2022.11): the real QIIME 2 framework and q2cli, taken from Debian's
# archive (QIIME 2 is not on PyPI), plus the profile's pinned Python
# dependencies (profiles/PROFILE.txt) and q2-parallel in development mode.
# A profile may add more packages of the same Debian suite (EXTRA_DEBS, e.g.
# real plugins), source builds (NO_ISOLATION_REQUIREMENTS) and Debian
# programs its plugins run (SYSTEM_PACKAGES, installed with apt-get).
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
# The command that builds this profile, for messages.
BUILT_BY=${BUILT_BY:-make dev}
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
Install one (e.g. 'pyenv install $PYTHON_VERSION') or point $PYTHON_OVERRIDE_VAR at it, then run '$BUILT_BY' again."
    "$python" -c 'import ctypes' 2>/dev/null || die "$python cannot import ctypes.
Install Debian's libffi8 ('apt-get install libffi8'), then run '$BUILT_BY' again."
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
QIIME 2 is taken from Debian's archive ($DEBIAN_SUITE); configure a Debian mirror for apt, then run '$BUILT_BY' again."
    echo "$uri"
}

# "a", "a and b", "a, b and c"
join_and() {
    local out=$1
    shift
    while [ $# -gt 1 ]; do
        out+=", $1"
        shift
    done
    [ $# -eq 0 ] || out+=" and $1"
    printf '%s' "$out"
}

# Fetch Debian packages (NAME=VERSION ...) of $DEBIAN_SUITE with a private
# apt configuration and copy their Python trees (packages and egg-info, so
# plugins keep their entry points) into the venv's site-packages.
fetch_debs() {
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
        || die "apt-get and dpkg-deb are needed to fetch QIIME 2 from Debian's archive."
    local apt=$VENV/.apt mirror names
    mirror=$(debian_mirror)
    names=$(join_and "$@")
    rm -rf "$apt/debs" "$apt/unpacked"
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
    echo "bootstrap-venv: fetching $names from $mirror ($DEBIAN_SUITE)"
    apt-get -q "${opts[@]}" update >"$apt/update.log" 2>&1 \
        || die "apt-get update of Debian $DEBIAN_SUITE from $mirror failed (log: $apt/update.log)."
    (cd "$apt/debs" && apt-get -q "${opts[@]}" download "$@") \
        >"$apt/download.log" 2>&1 \
        || die "apt-get download of $names from $mirror ($DEBIAN_SUITE) failed (log: $apt/download.log).
Check that this machine reaches that Debian mirror (set DEBIAN_MIRROR to use another one), then run '$BUILT_BY' again."
    local deb
    for deb in "$apt"/debs/*.deb; do
        dpkg-deb -x "$deb" "$apt/unpacked"
    done
    cp -r "$apt"/unpacked/usr/lib/python3/dist-packages/* "$SITE/"
    rm -rf "$apt/unpacked" "$apt/lists" "$apt"/*.bin
}

# QIIME 2 and q2cli, then the profile's EXTRA_DEBS (e.g. real plugins),
# fetched together; the extras are recorded in a stamp.
install_debs() {
    local wanted=() extra_stamp=$VENV/.extra-debs-installed
    if ! [ -f "$SITE/qiime2/__init__.py" ] || ! [ -f "$SITE/q2cli/__init__.py" ]; then
        wanted=("$QIIME_DEB" "$Q2CLI_DEB")
    fi
    local extras=${EXTRA_DEBS:-}
    if [ -n "$extras" ] && ! { [ -f "$extra_stamp" ] \
            && [ "$(cat "$extra_stamp")" = "$extras" ]; }; then
        # shellcheck disable=SC2206  # a list of NAME=VERSION words
        wanted+=($extras)
    fi
    [ ${#wanted[@]} -eq 0 ] && return 0
    fetch_debs "${wanted[@]}"
    [ -z "$extras" ] || printf '%s\n' "$extras" > "$extra_stamp"
}

# What install_requirements installs: the pinned file, then the profile's
# NO_ISOLATION_REQUIREMENTS (source builds that must compile against the
# venv's pinned numpy, not the newest one pip's build isolation would take).
requirements_wanted() {
    cat "$REQUIREMENTS"
    [ -z "${NO_ISOLATION_REQUIREMENTS:-}" ] \
        || echo "# then without build isolation: $NO_ISOLATION_REQUIREMENTS"
}

install_requirements() {
    local stamp=$VENV/.requirements-installed
    if [ -f "$stamp" ] && cmp -s <(requirements_wanted) "$stamp"; then
        return 0
    fi
    local log=$VENV/.requirements-install.log
    echo "bootstrap-venv: installing the pinned requirements of $PROFILE"
    "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS" >"$log" 2>&1 \
        || die "pip could not install $REQUIREMENTS into $VENV (log: $log)."
    if [ -n "${NO_ISOLATION_REQUIREMENTS:-}" ]; then
        # shellcheck disable=SC2086  # a list of requirement words
        "$VENV/bin/python" -m pip install -q --no-build-isolation \
            $NO_ISOLATION_REQUIREMENTS >>"$log" 2>&1 \
            || die "pip could not build $NO_ISOLATION_REQUIREMENTS into $VENV (log: $log)."
    fi
    requirements_wanted > "$stamp"
}

# The profile's SYSTEM_PACKAGES (Debian packages of programs its plugins
# run, e.g. mafft), installed with apt-get when one of SYSTEM_PROGRAMS is
# missing from PATH.
install_system_packages() {
    [ -n "${SYSTEM_PACKAGES:-}" ] || return 0
    local program missing=0
    for program in ${SYSTEM_PROGRAMS:-}; do
        command -v "$program" >/dev/null || missing=1
    done
    [ "$missing" -eq 1 ] || return 0
    # shellcheck source=scripts/apt-install.sh
    . "$ROOT/scripts/apt-install.sh"
    # shellcheck disable=SC2086  # a list of package names
    apt_install bootstrap-venv "the $PROFILE profile's plugins cannot run ${SYSTEM_PROGRAMS:-them}" \
        $SYSTEM_PACKAGES
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
install_debs
install_requirements
install_system_packages
install_package
write_qiime_command
