#!/bin/bash
# One device call for issue 19 (the portable family), in the order that matters if time runs
# out: build the portable library (compute_80 PTX), correctness on the portable path and on the
# Hopper path (a carried sm_90a build: .devbuild/sm90a/libtm.so), the portable LSTM table vs
# cuDNN, the cells/activations table on both paths, then compute-sanitizer on the portable path
# and the TensorRT plugin harness on it. Every log and json goes into $OUT/logs.tgz (a device
# call returns few files).
#   run: bash bench/portable_device_run.sh     (carry [".devbuild", "third_party_local"])
# Knobs: BS/TS/FS/HS (bench grid), PATHS (A/B paths), SKIP_HOPPER=1, HOPPER_BENCH=1 (the Hopper
# LSTM table), AB_LIBS (other portable libraries in .devbuild/<name>/), MEMCHECK_LIMIT,
# RACECHECK_LIMIT (s, 0 = skip), RACECHECK_CELLS (e.g. "simple_rnn gru": racecheck only those
# cells' forward calls), GRAD=1 (the gradient's check and a one-shape bench on the Hopper build,
# its paths chosen through tm_rnn_grad's options array; GRAD_BS/GRAD_HS its bench grid),
# BENCH=0 / VARIANTS=0 (skip the LSTM table / the cells and activations tables), PLUGIN=0 (skip
# the plugin harness).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
LOGS=$OUT/logs
mkdir -p "$LOGS" bench/build_c80 bench/build_sm90a
trap 'tar czf "$OUT/logs.tgz" -C "$OUT" logs && rm -rf "$LOGS"' EXIT
export PYTHONUNBUFFERED=1
status=0
BS=${BS:-1,8,32,128}; TS=${TS:-100}; FS=${FS:-64}; HS=${HS:-32,128,256,512,1024}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
ARCH=compute_80 OUTDIR=bench/build_c80 bench/build.sh > "$LOGS/build.log" 2>&1 ||
  { tail -30 "$LOGS/build.log"; exit 2; }
cp .devbuild/sm90a/libtm.so .devbuild/sm90a/libtm.arch bench/build_sm90a/
portable=(env TM_LIB=bench/build_c80/libtm.so TFTRT_MASKING_RNN_PORTABLE=1)
hopper=(env TM_LIB=bench/build_sm90a/libtm.so)
step() {  # step NAME LIMIT command...: runs it, keeps its log, prints its summary lines
  local name=$1 limit=$2; shift 2
  timeout "$limit" "$@" > "$LOGS/$name.log" 2>&1 || { echo "$name: rc=$?"; status=1; }
  echo "-- $name"; grep -E "FAILED|WRONG|done in" "$LOGS/$name.log" | head -20
}
step check_portable 120 "${portable[@]}" python3 bench/harness.py check --portable
[[ -z ${SKIP_HOPPER:-} ]] && step check_hopper 40 "${hopper[@]}" python3 bench/harness.py check
# nomma: the FFMA global mode alone; simple: one launch per step (what these GPUs ran before).
[[ ${BENCH:-1} != 0 ]] && step bench_portable ${BENCH_LIMIT:-200} "${portable[@]}" python3 bench/harness.py bench --portable \
  --skip-masking --paths "${PATHS:-nomma,simple}" --bs "$BS" --ts "$TS" --fs "$FS" --hs "$HS" \
  --json "$LOGS/bench_portable.json"
[[ ${VARIANTS:-1} != 0 ]] && step variants_portable 90 "${portable[@]}" python3 bench/harness.py bench --portable --variants \
  --json "$LOGS/variants_portable.json"
[[ -z ${SKIP_HOPPER:-} && ${VARIANTS:-1} != 0 ]] && step variants_hopper 70 "${hopper[@]}" python3 bench/harness.py \
  bench --variants --json "$LOGS/variants_hopper.json"
for lib in ${AB_LIBS:-}; do
  step "ab_$lib" 60 env TM_LIB=.devbuild/$lib/libtm.so TFTRT_MASKING_RNN_PORTABLE=1 \
    python3 bench/harness.py bench --portable --skip-masking --bs 8,32,128 --ts 100 --fs 64 \
    --hs 128,256,512 --json "$LOGS/ab_$lib.json"
done
if [[ -n ${GRAD:-} ]]; then
  step grad_check 90 "${hopper[@]}" python3 bench/grad_harness.py check --json "$LOGS/grad_check.json"
  step grad_bench ${GRAD_BENCH_LIMIT:-60} "${hopper[@]}" python3 bench/grad_harness.py bench \
    --quick --bs "${GRAD_BS:-8}" --hs "${GRAD_HS:-128}" --json "$LOGS/grad_bench.json"
fi
if [[ -n ${HOPPER_BENCH:-} ]]; then
  step bench_hopper 150 "${hopper[@]}" python3 bench/harness.py bench --skip-masking \
    --bs "$BS" --ts "$TS" --fs "$FS" --hs "$HS" --json "$LOGS/bench_hopper.json"
fi
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Lbench/build_c80 -ltm \
  -Xlinker -rpath=$PWD/bench/build_c80 -o bench/build_c80/sanitize_driver >> "$LOGS/build.log" 2>&1
for tool in memcheck racecheck; do
  limit=$([[ $tool == memcheck ]] && echo ${MEMCHECK_LIMIT:-120} || echo ${RACECHECK_LIMIT:-90})
  [[ $limit == 0 ]] && continue
  TFTRT_MASKING_RNN_PORTABLE=1 timeout "$limit" compute-sanitizer --tool $tool --error-exitcode 9 \
    bench/build_c80/sanitize_driver $([[ $tool == racecheck && -n ${RACECHECK_CELLS:-} ]] &&
      echo rnn $RACECHECK_CELLS) > "$LOGS/${tool}_portable.log" 2>&1
  echo "$tool (portable): rc=$? (124: cut by its ${limit} s limit)" \
    "$(grep -c FAIL "$LOGS/${tool}_portable.log") launch failures;" \
    "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/${tool}_portable.log" | tr '\n' ' ')" \
    "$(grep -cE '^[0-9.]+ s: ' "$LOGS/${tool}_portable.log") calls done;" \
    "hazards/errors: $(grep -cE 'Race reported|Invalid|Error:' "$LOGS/${tool}_portable.log")"
done
if [[ ${PLUGIN:-1} != 0 ]]; then
  PORTABLE=1 TRT_INCLUDE=third_party_local/tensorrt-8.6.1/include BUILD=/tmp/ph OUT=$LOGS \
    timeout ${PLUGIN_LIMIT:-240} bash trt_converter/plugins/harness/run_on_device.sh \
    > "$LOGS/plugin_harness_portable.log" 2>&1 || status=1
  echo "-- plugin harness (portable):"; grep -E "^FAIL|cases passed|built in" \
    "$LOGS/plugin_harness_portable.log" | tail -12
fi
exit $status
