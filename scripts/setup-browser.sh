#!/usr/bin/env bash
# Install Debian's chromium for the real-browser test (Playwright drives it through
# executable_path; Playwright's own browser download is not reachable from here).
set -euo pipefail
# Chinese and emoji fonts too: without them those characters render as boxes. curl reads
# the API's event stream in the serve test.
PACKAGES="chromium fonts-noto-cjk fonts-noto-color-emoji curl"
if command -v chromium >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && dpkg -s fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "chromium is missing and this user cannot run apt-get; install it with:" >&2
    echo "    sudo apt-get install -y $PACKAGES" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
chromium --version
