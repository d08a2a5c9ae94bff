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

. "${0%/*}/apt-install.sh"
apt_install install-slurm "the Slurm tests are skipped" "${PACKAGES[@]}"

missing && die "apt-get installed ${PACKAGES[*]}, yet one of ${NEEDED[*]} \
is still not found on PATH or in /usr/sbin."
echo "install-slurm: $(PATH="$PATH:/usr/sbin" slurmctld -V) installed"
