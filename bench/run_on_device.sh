#!/bin/bash
# One device call: build, correctness, compute-sanitizer, benchmark. Logs under $OUT.
#   bench/run_on_device.sh [all|check|bench|quick|ab|grad] [harness bench args...]  (default all)
#   ab: check + sanitizers, then `harness.py bench` with the given args (an A/B subset;
#       add --skip-masking to leave the masking bandwidth table out).
#   grad: the CUDA gradient alone (at most 8 minutes after the build): grad_harness.py check,
#       grad_harness.py bench, memcheck + racecheck of `sanitize_driver grad`.
#       GRAD_PREBUILT=1 uses a carried bench/build/libtm.so (ARCH=sm_90a bench/build.sh) when it
#       loads, instead of building it there (the build is most of the call's time).
#   portable: the portable path (issue 19) on this GPU: ARCH=compute_80 build (PTX the driver
#       JIT-compiles), TFTRT_MASKING_RNN_PORTABLE=1, `harness.py check --portable`, memcheck
#       (and racecheck when SANITIZE_RACECHECK=1) of the sanitizer driver, then
#       `harness.py bench --portable` with the given args (e.g. --skip-masking --ts 100).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
MODE=${1:-all}
shift || true
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
status=0
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
if [[ $MODE == grad ]]; then
  if [[ -n ${GRAD_PREBUILT:-} ]] &&
     python3 -c "import ctypes; ctypes.CDLL('bench/build/libtm.so').tm_rnn_grad"; then
    echo "using the carried bench/build/libtm.so"
  else
    bench/build.sh > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 2; }
  fi
  nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Lbench/build -ltm \
    -Xlinker -rpath=$PWD/bench/build -o bench/build/sanitize_driver >> "$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log"; exit 2; }
  timeout 45 python3 bench/grad_harness.py check --json "$OUT/grad_check.json" 2>&1 |
    tee "$OUT/grad_check.log" | grep -v "^  ok" | tail -40 || status=1
  timeout 140 python3 bench/grad_harness.py bench --json "$OUT/grad_bench.json" 2>&1 |
    tee "$OUT/grad_bench.log" || status=1
  # memcheck: every path (240 calls); racecheck (~1 s per call; H200, 2026-12-02: 64 calls in
  # 65 s): the launcher's choice only (80 calls), the other paths were race-checked unchanged.
  for tool in memcheck racecheck; do
    limit=$([[ $tool == memcheck ]] && echo 75 || echo 200)
    only=$([[ $tool == racecheck ]] && echo --auto-only)
    timeout $limit compute-sanitizer --tool $tool --error-exitcode 9 \
      bench/build/sanitize_driver grad $only > "$OUT/grad_$tool.log" 2>&1; rc=$?
    echo "compute-sanitizer $tool (grad): rc=$rc; $(grep -c 'FAIL' "$OUT/grad_$tool.log") launch" \
      "failures; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/grad_$tool.log" | tr '\n' ' ')"
    [[ $rc == 0 ]] || status=1
  done
  exit $status
fi
if [[ $MODE == portable ]]; then
  ARCH=compute_80 bench/build.sh > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 2; }
  nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Lbench/build -ltm \
    -Xlinker -rpath=$PWD/bench/build -o bench/build/sanitize_driver >> "$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log"; exit 2; }
  export TFTRT_MASKING_RNN_PORTABLE=1
  timeout 200 python3 bench/harness.py check --portable 2>&1 | tee "$OUT/check.log" |
    grep -v "^  ok" | tail -40 || status=1
  tools=(memcheck)
  [[ -n ${SANITIZE_RACECHECK:-} ]] && tools+=(racecheck)
  for tool in "${tools[@]}"; do
    timeout ${SANITIZE_LIMIT:-200} compute-sanitizer --tool $tool --error-exitcode 9 \
      bench/build/sanitize_driver > "$OUT/$tool.log" 2>&1; rc=$?
    echo "compute-sanitizer $tool (portable): rc=$rc; $(grep -c 'FAIL' "$OUT/$tool.log") launch" \
      "failures; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$tool.log" | tr '\n' ' ')"
    [[ $rc == 0 ]] || status=1
  done
  timeout ${BENCH_LIMIT:-300} python3 bench/harness.py bench --portable --json "$OUT/bench.json" "$@" 2>&1 |
    tee "$OUT/bench.log" | tail -60 || status=1
  exit $status
fi
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
