#!/bin/bash
# One device call for issue 19 (the portable family), in the order that matters if time runs
# out: build the portable library (compute_80 PTX), correctness on the portable path and on the
# Hopper path (a carried sm_90a build: .devbuild/sm90a/libtm.so), the portable LSTM table vs
# cuDNN, the cells/activations table on both paths, the Hopper LSTM table (no-regression check),
# then compute-sanitizer memcheck of the portable path. Logs and json under $OUT.
#   run: bash bench/portable_device_run.sh     (carry [".devbuild"])
# Knobs: BS/TS/FS/HS (bench grid), PATHS (A/B paths), SKIP_HOPPER=1, HOPPER_BENCH=1 (the Hopper
# LSTM table), MEMCHECK=1 (memcheck of the portable path, SANITIZE_LIMIT s).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" bench/build_c80 bench/build_sm90a
export PYTHONUNBUFFERED=1
status=0
BS=${BS:-1,8,32,128}; TS=${TS:-100}; FS=${FS:-64}; HS=${HS:-32,128,256,512,1024}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
ARCH=compute_80 OUTDIR=bench/build_c80 bench/build.sh > "$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log"; exit 2; }
cp .devbuild/sm90a/libtm.so .devbuild/sm90a/libtm.arch bench/build_sm90a/
portable() { TM_LIB=bench/build_c80/libtm.so TFTRT_MASKING_RNN_PORTABLE=1 "$@"; }
hopper() { TM_LIB=bench/build_sm90a/libtm.so "$@"; }
step() {  # step NAME LIMIT command...: runs it, keeps its log, prints its summary lines
  local name=$1 limit=$2; shift 2
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1 || { echo "$name: rc=$?"; status=1; }
  grep -E "FAILED|WRONG|done in|failures" "$OUT/$name.log" | head -20
}
step check_portable 120 portable python3 bench/harness.py check --portable
[[ -z ${SKIP_HOPPER:-} ]] && step check_hopper 40 hopper python3 bench/harness.py check
# nomma: the FFMA global mode alone; simple: one launch per step (what these GPUs ran before).
step bench_portable ${BENCH_LIMIT:-230} portable python3 bench/harness.py bench --portable \
  --skip-masking --paths "${PATHS:-nomma,simple}" --bs "$BS" --ts "$TS" --fs "$FS" --hs "$HS" \
  --json "$OUT/bench_portable.json"
step variants_portable 90 portable python3 bench/harness.py bench --portable --variants \
  --json "$OUT/variants_portable.json"
[[ -z ${SKIP_HOPPER:-} ]] && step variants_hopper 70 hopper python3 bench/harness.py bench \
  --variants --json "$OUT/variants_hopper.json"
# A/B: other portable libraries carried as .devbuild/<name>/libtm.so (AB_LIBS="name ..."), on a
# subset of the grid, with this tree's harness.
for lib in ${AB_LIBS:-}; do
  step "ab_$lib" 60 env TM_LIB=.devbuild/$lib/libtm.so TFTRT_MASKING_RNN_PORTABLE=1 \
    python3 bench/harness.py bench --portable --skip-masking --bs 8,32,128 --ts 100 --fs 64 \
    --hs 128,256,512 --json "$OUT/ab_$lib.json"
done
if [[ -n ${HOPPER_BENCH:-} ]]; then
  step bench_hopper 150 hopper python3 bench/harness.py bench --skip-masking \
    --bs "$BS" --ts "$TS" --fs "$FS" --hs "$HS" --json "$OUT/bench_hopper.json"
fi
[[ -z ${MEMCHECK:-} ]] && exit $status
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Lbench/build_c80 -ltm \
  -Xlinker -rpath=$PWD/bench/build_c80 -o bench/build_c80/sanitize_driver >> "$OUT/build.log" 2>&1
TFTRT_MASKING_RNN_PORTABLE=1 timeout ${SANITIZE_LIMIT:-120} compute-sanitizer --tool memcheck \
  --error-exitcode 9 bench/build_c80/sanitize_driver > "$OUT/memcheck_portable.log" 2>&1
echo "memcheck (portable): rc=$? $(grep -c FAIL "$OUT/memcheck_portable.log") launch failures;" \
  "$(grep -E 'ERROR SUMMARY' "$OUT/memcheck_portable.log") last: $(tail -1 "$OUT/memcheck_portable.log")"
exit $status
