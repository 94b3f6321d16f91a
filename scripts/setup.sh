#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for this project, idempotently:
#   apt: Debian's bazel-bootstrap (offline Bazel 4.2.3) and libgtest-dev
#   .venv: TensorFlow 2.17.1, Keras, tf_keras, pytest (requirements.txt)
#   configure.py, then bazel build //... (the op library; the TF-TRT converters and
#   TensorRT plugins too where TensorRT headers are found)
# Environment: PYTHON (default python3; TF 2.17 needs Python 3.9-3.12).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
source scripts/wheelhouse.sh

apt_packages=(bazel-bootstrap libgtest-dev)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  say "installing ${missing[*]} (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
# Reinstall only when requirements.txt changed.
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (requirements.txt)"
  pip_install_via_wheelhouse .venv/bin/python -r requirements.txt || true
  .venv/bin/python -c "import tensorflow" 2>/dev/null || { say "TensorFlow did not install"; exit 1; }
  echo "$want" > "$stamp"
fi

.venv/bin/python configure.py
say "building (bazel build //...)"
mkdir -p build
if ! bazel build //... >build/bazel-build.log 2>&1; then
  grep -E "ERROR|error:" build/bazel-build.log | head -40
  say "bazel build failed (full log: build/bazel-build.log)"
  exit 1
fi
grep -E "Build completed|Elapsed" build/bazel-build.log | tail -1
