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

command -v apt-get >/dev/null || die "apt-get not found: this script installs \
Chromium on Debian only. Install your distribution's Chromium by hand; the \
report's browser tests are skipped until then."

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "installing ${PACKAGES[*]} needs root, \
and sudo is not available. Run this script as root."
    SUDO=(sudo)
fi

install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
}

echo "install-chromium: installing ${PACKAGES[*]} with apt-get"
if ! install; then
    # The package lists may be missing or stale (fresh images ship none).
    "${SUDO[@]}" mkdir -p /var/lib/apt/lists/partial
    "${SUDO[@]}" apt-get update -q || die "'apt-get update' failed (see \
above): apt cannot reach its mirrors. Check the network and \
/etc/apt/sources.list*, then run scripts/install-chromium.sh again."
    install || die "'apt-get install ${PACKAGES[*]}' failed (see above). \
Fix the apt problem shown, then run scripts/install-chromium.sh again; the \
report's browser tests are skipped until Chromium is installed."
fi

command -v chromium >/dev/null || die "apt-get installed ${PACKAGES[*]}, \
yet chromium is still not found on PATH."
echo "install-chromium: $(chromium --version 2>/dev/null) installed"
