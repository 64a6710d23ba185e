#!/usr/bin/env bash
# Install zhiku into .venv/ from PyPI only, reproducibly (requirements.lock).
# Safe to run again: it does nothing when the installed set is already current.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LLAMA_VERSION=0.3.36
# The default llama.cpp build segfaults on these CPUs (AMX matmul); see shared/MODELS.md.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
flags_key=$(printf '%s %s' "$LLAMA_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
wheel_dir=.cache/wheels/llama-cpp-python-$LLAMA_VERSION-$flags_key
stamp_value=$(cat pyproject.toml requirements.lock scripts/setup.sh | sha256sum | cut -c1-16)

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ -f .venv/.zhiku-installed ] && [ "$(cat .venv/.zhiku-installed)" = "$stamp_value" ]; then
  bash scripts/setup-ocr.sh
  exit 0
fi

pip=(.venv/bin/python -m pip --disable-pip-version-check)
# The pip that ships with Python 3.11 (23.x) cannot resolve a local wheel with extras
# next to constraints; a pinned newer pip can.
"${pip[@]}" install pip==25.3
# torch first, so pip takes the CPU build on disk instead of a multi-GB CUDA build.
"${pip[@]}" install torch==2.13.0

if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $LLAMA_VERSION (about 9 minutes on 2 cores, once per machine)"
  rm -rf "$wheel_dir.tmp"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "${pip[@]}" wheel --no-cache-dir --no-deps -w "$wheel_dir.tmp" "llama-cpp-python==$LLAMA_VERSION"
  mv "$wheel_dir.tmp" "$wheel_dir"
fi
llama_wheel=$(ls "$wheel_dir"/llama_cpp_python-*.whl)

"${pip[@]}" install -c requirements.lock "llama-cpp-python[server] @ file://$PWD/$llama_wheel"
"${pip[@]}" install -c requirements.lock -e ".[dev]"
"${pip[@]}" check
echo "$stamp_value" > .venv/.zhiku-installed
bash scripts/setup-ocr.sh
