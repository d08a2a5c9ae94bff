# Sourced by the install-*.sh scripts: install Debian packages with apt-get,
# as root or through sudo, updating apt's package lists once if the first
# attempt fails (fresh images ship none).
#
#   apt_install SCRIPT SKIPPED PACKAGE...
# SCRIPT names the calling script in messages; SKIPPED says what is skipped
# until the packages are installed.  Exits with a message on failure.

apt_install() {
    local script=$1 skipped=$2
    shift 2
    local packages=("$@") sudo=()
    _apt_die() {
        printf '%s: error: %s\n' "$script" "$*" >&2
        exit 1
    }
    command -v apt-get >/dev/null || _apt_die "apt-get not found: this \
script installs ${packages[*]} on Debian only. Install them (or your \
distribution's packages) by hand; $skipped until then."
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || _apt_die "installing ${packages[*]} \
needs root, and sudo is not available. Run this script as root."
        sudo=(sudo)
    fi
    _apt_get_install() {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${packages[@]}"
    }
    echo "$script: installing ${packages[*]} with apt-get"
    if ! _apt_get_install; then
        "${sudo[@]}" mkdir -p /var/lib/apt/lists/partial
        "${sudo[@]}" apt-get update -q || _apt_die "'apt-get update' failed \
(see above): apt cannot reach its mirrors. Check the network and \
/etc/apt/sources.list*, then run scripts/$script.sh again."
        _apt_get_install || _apt_die "'apt-get install ${packages[*]}' \
failed (see above). Fix the apt problem shown, then run scripts/$script.sh \
again; $skipped until then."
    fi
}
