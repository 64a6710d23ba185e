#!/usr/bin/env bash
# Install Debian's chromium for the real-browser test (Playwright drives it through
# executable_path; Playwright's own browser download is not reachable from here).
set -euo pipefail
source "$(dirname "$0")/apt.sh"
# Chinese and emoji fonts too: without them those characters render as boxes. curl reads
# the API's event stream in the serve test.
if command -v chromium >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && dpkg -s fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1; then
    exit 0
fi
apt_install required "The browser test" chromium fonts-noto-cjk fonts-noto-color-emoji curl
chromium --version
