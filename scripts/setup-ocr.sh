#!/usr/bin/env bash
# The shared libraries OpenCV needs (RapidOCR reads scans and images with it, issue 25):
# Debian's libgl1 and libglib2.0-0. A desktop has them; a bare server or container may not.
set -euo pipefail
source "$(dirname "$0")/apt.sh"
if .venv/bin/python -c "import cv2" >/dev/null 2>&1; then
    exit 0
fi
apt_install optional "OCR (scans and images are skipped until then)" libgl1 libglib2.0-0
if find_sudo; then
    .venv/bin/python -c "import cv2"
fi
