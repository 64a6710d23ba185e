#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries for the several-writers test, which starts
# its own server (initdb + pg_ctl into a temporary folder, on a free port) and stops it.
# Nothing is started here and no cluster is created.
set -euo pipefail
source "$(dirname "$0")/apt.sh"
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
# policy-rc.d: do not start the packaged cluster; the test runs its own.
if find_sudo && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt_install required "The PostgreSQL test" postgresql
ls /usr/lib/postgresql/*/bin/initdb
