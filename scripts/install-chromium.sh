#!/usr/bin/env bash
# Install Debian's Chromium, the headless browser the report tests draw
# each run's report in (tests/test_report.py).  Quick and silent when it is
# already there; works on Debian 12 and 13.
set -euo pipefail

PACKAGES=(chromium)

die() {
    printf 'install-chromium: error: %s\n' "$*" >&2
    exit 1
}

command -v chromium >/dev/null && exit 0

. "${0%/*}/apt-install.sh"
apt_install install-chromium "the report's browser tests are skipped" "${PACKAGES[@]}"

command -v chromium >/dev/null || die "apt-get installed ${PACKAGES[*]}, \
yet chromium is still not found on PATH."
echo "install-chromium: $(chromium --version 2>/dev/null) installed"
