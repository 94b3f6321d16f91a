#!/bin/bash
# One device call: build, correctness, compute-sanitizer, benchmark. Logs under $OUT.
#   bench/run_on_device.sh [all|check|bench|quick|ab] [harness bench args...]   (default all)
#   ab: check + sanitizers, then `harness.py bench` with the given args (an A/B subset;
#       add --skip-masking to leave the masking bandwidth table out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
MODE=${1:-all}
shift || true
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
status=0
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
RESOURCE_USAGE=1 bench/build.sh > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 2; }
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Lbench/build -ltm \
  -Xlinker -rpath=$PWD/bench/build -o bench/build/sanitize_driver >> "$OUT/build.log" 2>&1 \
  || { tail -30 "$OUT/build.log"; exit 2; }
if [[ $MODE == all || $MODE == check || $MODE == ab ]]; then
  timeout 300 python3 bench/harness.py check 2>&1 | tee "$OUT/check.log" | grep -v "^  ok" | tail -40 || status=1
  for tool in memcheck racecheck; do
    timeout 400 compute-sanitizer --tool $tool --error-exitcode 9 bench/build/sanitize_driver \
      > "$OUT/$tool.log" 2>&1; rc=$?
    echo "compute-sanitizer $tool: rc=$rc; $(grep -c 'FAIL' "$OUT/$tool.log") launch failures;" \
      "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$tool.log" | tr '\n' ' ')"
    [[ $rc == 0 ]] || status=1
  done
fi
if [[ $MODE == all || $MODE == bench ]]; then
  timeout 430 python3 bench/harness.py bench --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log" | tail -30 || status=1
fi
if [[ $MODE == ab ]]; then
  timeout 400 python3 bench/harness.py bench --json "$OUT/bench.json" "$@" 2>&1 | tee "$OUT/bench.log" | tail -80 || status=1
fi
if [[ $MODE == quick ]]; then
  timeout 300 python3 bench/harness.py bench --quick --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log" | tail -60 || status=1
fi
exit $status
