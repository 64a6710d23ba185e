#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries for the several-writers test, which starts
# its own server (initdb + pg_ctl into a temporary folder, on a free port) and stops it.
# Nothing is started here and no cluster is created.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
PACKAGES="postgresql"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "PostgreSQL is missing and this user cannot run apt-get; install it with:" >&2
    echo "    sudo apt-get install -y $PACKAGES" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d: do not start the packaged cluster; the test runs its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
ls /usr/lib/postgresql/*/bin/initdb
