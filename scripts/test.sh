#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: `bazel test //...` (C++ gtest
# and pytest targets) and the installed wheel's test (scripts/test_wheel.sh), then
# prints one summary line over all test cases.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
mkdir -p build
echo "test: bazel test //..."
bazel test //... 2>&1 | tee build/bazel-test.log | grep -vE "^(INFO|Loading|Analyzing|\[)"
bazel_rc=${PIPESTATUS[0]}
# "//pkg:target   (cached) PASSED in 1.2s" -> "//pkg:target=PASSED"
mapfile -t statuses < <(sed -nE 's#^(//[^ ]+) +(\(cached\) )?([A-Z ]*[A-Z]+)( in .*)?$#\1=\3#p' \
  build/bazel-test.log)

echo "test: scripts/test_wheel.sh (the wheel, installed into a fresh virtual environment)"
wheel_xml=build/wheel/test.xml
bash scripts/test_wheel.sh "$wheel_xml"
wheel_rc=$?
wheel_status=PASSED
[ "$wheel_rc" = 0 ] || wheel_status=FAILED

.venv/bin/python scripts/summarize_tests.py "${statuses[@]}" \
  "scripts/test_wheel.sh=$wheel_status" --xml "scripts/test_wheel.sh=$wheel_xml"
summary_rc=$?
if [ "$bazel_rc" != 0 ]; then exit "$bazel_rc"; fi
if [ "$wheel_rc" != 0 ]; then exit "$wheel_rc"; fi
exit "$summary_rc"
