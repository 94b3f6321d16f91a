#!/usr/bin/env bash
# The wheel as a user gets it: builds it (scripts/build_wheel.sh), installs it into a
# FRESH virtual environment (scripts/wheelhouse.sh: TensorFlow is downloaded once a machine) and
# runs tests/wheel/test_installed_wheel.py there from an empty folder outside the checkout:
# `python -m tftrt_masking seed`, the console script, a SavedModel round trip with
# tftrt_masking.load_ops(), the metadata.
# Usage: scripts/test_wheel.sh [JUNIT_XML]   (default build/wheel/test.xml)
# Environment: PYTHON: the Python configure.py ran with (default .venv/bin/python).
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "test_wheel: $*"; }
source scripts/wheelhouse.sh

python=${PYTHON:-.venv/bin/python}
xml=$(realpath -m "${1:-build/wheel/test.xml}")
rm -f "$xml"
start=$SECONDS
PYTHON=$python bash scripts/build_wheel.sh build/wheel || exit 1
wheel=$(realpath build/wheel/dist/tftrt_masking-*.whl)
built=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/tftrt_masking_wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The same Python the wheel's TensorFlow was installed for, without its packages.
base_python=$("$python" -c "import sys; print(sys._base_executable)")
"$base_python" -m venv "$work/venv" || exit 1
say "installing $(basename "$wheel") and pytest into a fresh virtual environment"
if ! pip_install_via_wheelhouse "$work/venv/bin/python" "$wheel" pytest; then
  say "pip install failed"
  exit 1
fi
installed=$SECONDS

mkdir "$work/run"
cp tests/wheel/test_installed_wheel.py "$work/run/"
(cd "$work/run" && env -u PYTHONPATH -u TFTRT_MASKING_LIB_DIR TF_CPP_MIN_LOG_LEVEL=2 \
  "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs --junitxml="$xml" \
  test_installed_wheel.py)
rc=$?
say "build $((built - start)) s, fresh venv + pip install $((installed - built)) s," \
  "tests $((SECONDS - installed)) s"
exit $rc
