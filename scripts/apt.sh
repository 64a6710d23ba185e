# Sourced by the setup-*.sh scripts: install Debian packages as root, through `sudo -n`
# when this user has it, else say the command to run. One place for that logic.

# Sets SUDO to "" (root) or "sudo -n"; fails when neither can run apt-get.
find_sudo() {
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        return 1
    fi
}

# apt_install required|optional "what needs them" PACKAGE...
# Without root, a required install stops the setup with the command to run; an optional
# one says what is skipped until then and lets the setup go on.
apt_install() {
    local need=$1 purpose=$2
    shift 2
    if ! find_sudo; then
        echo "$purpose needs: sudo apt-get install -y $*" >&2
        [ "$need" = optional ] && return 0
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
