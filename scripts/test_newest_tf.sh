#!/usr/bin/env bash
# Builds and tests this project against the newest TensorFlow on PyPI (or the one given)
# with the Keras it pulls in: the op library, `bazel test //...` (ops, layers, rewrite,
# seed example; TF-TRT's tests skip or check the one-line "no TF-TRT" message), then the
# wheel built for that TensorFlow, installed into a fresh virtual environment
# (scripts/test_wheel.sh). Not in CI: it downloads and installs a second TensorFlow.
#
# Everything lives in .newest-tf/ (git and Bazel ignore it), so the checkout's .venv,
# .tf_configure.bazelrc and third_party/local_config/ stay as they are:
#   .newest-tf/venv  the newest tensorflow, its Keras, pytest (tf_keras with TF_KERAS=1)
#   .newest-tf/src   a copy of the checkout's files, configured against that venv; Bazel
#                    gives it its own output base (keyed on the workspace path) and
#                    shares the disk cache.
# Usage: scripts/test_newest_tf.sh [TF_VERSION]   (default: the newest on PyPI)
# Environment: PYTHON (python3) makes the venv; TF_KERAS=1 also installs tf_keras;
#   TFTRT_MASKING_CUDA (default 0 here: CPU kernels; 1 compiles the CUDA kernels, slow).
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "test_newest_tf: $*"; }

dir=$(pwd)/.newest-tf
venv=$dir/venv
src=$dir/src
requirements=("${1:+tensorflow==$1}")
[ -n "${1:-}" ] || requirements=(tensorflow)
[ "${TF_KERAS:-0}" = 1 ] && requirements+=(tf_keras)
requirements+=(pytest)

mkdir -p "$dir"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv" || exit 1
say "pip install -U ${requirements[*]} into $venv"
"$venv/bin/python" -m pip install -q -U --disable-pip-version-check "${requirements[@]}" 2>&1 \
  | grep -v "^WARNING: Location"
if [ "${TF_KERAS:-0}" != 1 ] && "$venv/bin/python" -c "import tf_keras" 2>/dev/null; then
  "$venv/bin/python" -m pip uninstall -q -y tf_keras
fi
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "import tensorflow as tf, keras
try:
  import tf_keras; tfk = tf_keras.__version__
except ImportError:
  tfk = 'not installed'
print(f'test_newest_tf: TensorFlow {tf.__version__}, Keras {keras.__version__}, tf_keras {tfk}')" \
  2>/dev/null || exit 1

say "copying the checkout to $src"
rm -rf "$src"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C "$src" -xf -
cd "$src" || exit 1

TFTRT_MASKING_CUDA=${TFTRT_MASKING_CUDA:-0} "$venv/bin/python" configure.py || exit 1
mkdir -p build
say "bazel build //..."
if ! bazel build //... >build/bazel-build.log 2>&1; then
  grep -E "ERROR|error:" build/bazel-build.log | head -40
  say "bazel build failed (log: $src/build/bazel-build.log)"
  bazel shutdown
  exit 1
fi
say "bazel test //..."
bazel test //... 2>&1 | tee build/bazel-test.log | grep -vE "^(INFO|Loading|Analyzing|\[)"
bazel_rc=${PIPESTATUS[0]}
mapfile -t statuses < <(sed -nE 's#^(//[^ ]+) +(\(cached\) )?([A-Z ]*[A-Z]+)( in .*)?$#\1=\3#p' \
  build/bazel-test.log)

say "scripts/test_wheel.sh (the wheel for this TensorFlow, in a fresh virtual environment)"
PYTHON=$venv/bin/python bash scripts/test_wheel.sh build/wheel/test.xml
wheel_rc=$?
wheel_status=PASSED
[ "$wheel_rc" = 0 ] || wheel_status=FAILED
bazel shutdown  # this workspace's Bazel server: not needed until the next run

"$venv/bin/python" scripts/summarize_tests.py "${statuses[@]}" \
  "scripts/test_wheel.sh=$wheel_status" --xml "scripts/test_wheel.sh=build/wheel/test.xml"
summary_rc=$?
[ "$bazel_rc" = 0 ] && [ "$wheel_rc" = 0 ] && exit "$summary_rc"
exit 1
