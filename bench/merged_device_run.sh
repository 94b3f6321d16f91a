#!/bin/bash
# One device call that checks a merged tree on both paths, most important first, under a time
# budget (every step is cut so that the logs are packed before the call's limit):
#   1. harness.py check on the Hopper build and on the portable build (compute_80 PTX,
#      TFTRT_MASKING_RNN_PORTABLE=1);
#   2. the CUDA gradient's check (grad_harness.py, every path, through the options array);
#   3. the TensorRT plugin harness on the portable path (a pluginHarness binary built here with
#      `PORTABLE=1 BUILD_ONLY=1 ... trt_converter/plugins/harness/run_on_device.sh`);
#   4. the cells/activations table on Hopper, the training-step table (quick), the portable LSTM
#      table at H = 128;
#   5. memcheck of the gradient on every path (~2 s for its 240 calls), racecheck on the
#      launcher's choice, the gradient's profile
#      (bench/grad_profile.py), racecheck of the row-group variants (Hopper) and of SimpleRNN /
#      GRU on the portable path.
# SKIP="step ..." leaves steps out (bench/device_steps.sh); GRAD_RACECHECK_ARGS: the sanitizer
# driver's gradient arguments for racecheck (default --auto-only; "--products --auto-only": the
# tensor-core products' shapes); PORTABLE_RACECHECK_ARGS: the driver's arguments for the portable
# racecheck (default "rnn simple_rnn gru_reset_before"; "block": the tensor-core block kernel).
# Carried (ignored) folder .devbuild/merged/: c80/ and sm90a/ (libtm.so + libtm.arch of
# bench/build.sh ARCH=compute_80 / sm_90a), pluginHarness, or all of them as bundle.tgz (the
# libraries with -lineinfo pass the 64 MiB a call carries; gzip brings them to about a third).
# Logs and json in $OUT/logs.tgz.
#   run: bash bench/merged_device_run.sh      (carry [".devbuild/merged"])
set -uo pipefail
cd "$(dirname "$0")/.."
D=${D:-.devbuild/merged}
PH=${PH:-$D/pluginHarness}  # the pluginHarness binary, if carried elsewhere
source bench/device_steps.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
[[ -f $D/bundle.tgz ]] && tar xzf "$D/bundle.tgz" -C "$D"
portable=(env TM_LIB=$D/c80/libtm.so TFTRT_MASKING_RNN_PORTABLE=1)
hopper=(env TM_LIB=$D/sm90a/libtm.so)
for lib in c80 sm90a; do
  nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -L$D/$lib -ltm \
    -Xlinker -rpath=$PWD/$D/$lib -o /tmp/sanitize_$lib > "$LOGS/build_driver_$lib.log" 2>&1 &
done
step check_hopper 75 "${hopper[@]}" python3 bench/harness.py check
step check_portable 110 "${portable[@]}" python3 bench/harness.py check --portable
step grad_check 110 "${hopper[@]}" python3 bench/grad_harness.py check --json "$LOGS/grad_check.json"
step plugin_portable 150 env PORTABLE=1 PREBUILT=$PH BUILD=/tmp/ph OUT=$LOGS \
  TRT_INCLUDE=/nonexistent bash trt_converter/plugins/harness/run_on_device.sh
step variants_hopper 60 "${hopper[@]}" python3 bench/harness.py bench --variants --skip-masking \
  --json "$LOGS/variants_hopper.json"
step grad_bench 100 "${hopper[@]}" python3 bench/grad_harness.py bench --quick \
  --json "$LOGS/grad_bench.json"
step bench_portable 45 "${portable[@]}" python3 bench/harness.py bench --portable --skip-masking \
  --paths noblock --bs 1,8,32,128 --ts 100 --fs 64 --hs 128 --json "$LOGS/bench_portable.json"
wait
step grad_memcheck 100 compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/sanitize_sm90a \
  grad
step grad_racecheck 120 compute-sanitizer --tool racecheck --error-exitcode 9 /tmp/sanitize_sm90a \
  grad ${GRAD_RACECHECK_ARGS:---auto-only}
step grad_profile 60 "${hopper[@]}" python3 bench/grad_profile.py --json "$LOGS/grad_profile.json"
sanitize() {  # sanitize NAME LIMIT env... -- driver args: racecheck of what the env selects
  local name=$1 limit=$2; shift 2
  skipped "$name" && return 0
  local envs=(); while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
  local log="$LOGS/$name.log" t0=$(date +%s)
  timeout "$(left "$limit")" env "${envs[@]}" compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$@" > "$log" 2>&1
  echo "$name: rc=$? ($(( $(date +%s) - t0 )) s; 124: cut by its limit)" \
    "$(grep -c FAIL "$log") launch failures; $(grep -E 'RACECHECK SUMMARY' "$log" | tr '\n' ' ')" \
    "$(grep -cE '^[0-9.]+ s: ' "$log") calls; hazards: $(grep -cE 'Race reported' "$log")"
}
FILTER=()
compute-sanitizer --help 2>&1 | grep -q -- "--kernel-name" &&
  FILTER=(--kernel-name kns=MmaRowGroupRnnVariantKernel)
sanitize racecheck_hopper_variants 60 SANITIZE_ROW_GROUP=1 SANITIZE_ACTIVATION=relu \
  SANITIZE_RECURRENT_ACTIVATION=hard_sigmoid -- "${FILTER[@]}" /tmp/sanitize_sm90a rnn \
  gru_reset_before simple_rnn
sanitize racecheck_portable 60 TFTRT_MASKING_RNN_PORTABLE=1 -- /tmp/sanitize_c80 \
  ${PORTABLE_RACECHECK_ARGS:-rnn simple_rnn gru_reset_before}
echo "total $(( $(date +%s) - START )) s"
exit 0
