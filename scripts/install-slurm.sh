#!/usr/bin/env bash
# Install Debian's Slurm and munge, which the Slurm tests start as a
# single-node cluster (tests/slurm_cluster.py).  Quick and silent when the
# daemons and client commands are already there; works on Debian 12 and 13.
# The services are never started here: without systemd the packages' own
# start attempts fail harmlessly, and the tests start their own daemons.
set -euo pipefail

PACKAGES=(slurm-wlm munge slurm-client)
NEEDED=(slurmctld slurmd munged srun squeue scancel sinfo)

die() {
    printf 'install-slurm: error: %s\n' "$*" >&2
    exit 1
}

missing() {
    local program
    for program in "${NEEDED[@]}"; do
        PATH="$PATH:/usr/sbin:/sbin" command -v "$program" >/dev/null || return 0
    done
    return 1
}

missing || exit 0

command -v apt-get >/dev/null || die "apt-get not found: this script installs \
Slurm on Debian only. Install ${PACKAGES[*]} (or your distribution's Slurm \
and munge packages) by hand; the Slurm tests are skipped until then."

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

echo "install-slurm: installing ${PACKAGES[*]} with apt-get"
if ! install; then
    # The package lists may be missing or stale (fresh images ship none).
    "${SUDO[@]}" mkdir -p /var/lib/apt/lists/partial
    "${SUDO[@]}" apt-get update -q || die "'apt-get update' failed (see \
above): apt cannot reach its mirrors. Check the network and \
/etc/apt/sources.list*, then run scripts/install-slurm.sh again."
    install || die "'apt-get install ${PACKAGES[*]}' failed (see above). \
Fix the apt problem shown, then run scripts/install-slurm.sh again; the \
Slurm tests are skipped until Slurm is installed."
fi

missing && die "apt-get installed ${PACKAGES[*]}, yet one of ${NEEDED[*]} \
is still not found on PATH or in /usr/sbin."
echo "install-slurm: $(PATH="$PATH:/usr/sbin" slurmctld -V) installed"
