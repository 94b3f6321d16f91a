#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: `bazel test //...` (C++ gtest
# and pytest targets), then prints one summary line over all test cases.
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
.venv/bin/python scripts/summarize_tests.py "${statuses[@]}"
summary_rc=$?
if [ "$bazel_rc" != 0 ]; then exit "$bazel_rc"; fi
exit "$summary_rc"
