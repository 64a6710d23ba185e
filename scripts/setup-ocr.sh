#!/usr/bin/env bash
# The shared libraries OpenCV needs (RapidOCR reads scans and images with it, issue 25):
# Debian's libgl1 and libglib2.0-0. A desktop has them; a bare server or container may not.
set -euo pipefail
PACKAGES="libgl1 libglib2.0-0"
if .venv/bin/python -c "import cv2" >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "OCR needs: sudo apt-get install -y $PACKAGES (scans and images are skipped until then)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
.venv/bin/python -c "import cv2"
