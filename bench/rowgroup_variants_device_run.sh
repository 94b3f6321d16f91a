#!/bin/bash
# The row-group variants on a Hopper GPU (issue 19): checks, the kernels each variant call
# launches, the variants table, the LSTM grid, memcheck/racecheck of the variant kernels; logs
# tarred into $OUT after every step. D: a folder (relative to the repository root) with libtm.so
# (ARCH=sm_90a bench/build.sh), bench/*.py, bench/sanitize_driver.cc,
# python/tftrt_masking/reference.py and kernels_used.py (bench/kernels_used.py), e.g.
# .devbuild/NAME carried to the device: `D=.devbuild/NAME bash bench/rowgroup_variants_device_run.sh`.
cd "$(dirname "$0")/.."
D=${D:?folder with libtm.so and the bench files}
L=/tmp/rgvlogs  # tarred into $OUT after every step (a call returns at most 8 files)
mkdir -p "$L"
export TM_LIB=$PWD/$D/libtm.so
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$L/gpu.txt"
date -u
step() {  # name limit command...
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  timeout "$limit" "$@" > "$L/$name.log" 2>&1
  echo "== $name rc=$? ($(( $(date +%s) - t0 )) s)"
  tar czf "$OUT/rgv_logs.tgz" -C /tmp rgvlogs
}
step check 90 python3 $D/bench/harness.py check
tail -2 "$L/check.log"; grep -E "FAIL|Error|Traceback" "$L/check.log" | head -20
step kernels 30 python3 $D/kernels_used.py
cut -c1-230 "$L/kernels.log" | head -40
step variants 90 python3 $D/bench/harness.py bench --skip-masking --variants --json "$L/variants.json"
grep -vE "^  lstm default" "$L/variants.log" | tail -60
step lstm 60 python3 $D/bench/harness.py bench --skip-masking --bs 1,8,32,128 --ts 100 --fs 64 \
  --hs 128,256,512 --json "$L/lstm.json"
tail -28 "$L/lstm.log"
nvcc -O2 -std=c++17 -arch=sm_90 -I. $D/bench/sanitize_driver.cc -L$D -ltm -Xlinker -rpath=$PWD/$D \
  -o $D/sanitize_driver > "$L/sanitize_build.log" 2>&1 || echo "sanitize_driver build failed"
export SANITIZE_ROW_GROUP=1
# racecheck: only the variant kernels instrumented (the rest run natively: fast), where the
# tool has the option; memcheck checks every kernel.
FILTER=()
compute-sanitizer --help 2>&1 | grep -q -- "--kernel-name" && \
  FILTER=(--kernel-name kns=MmaRowGroupRnnVariantKernel)
echo "sanitizer filter: ${FILTER[*]:-none}"
sanitize() {  # tool limit activation recurrent_activation cells...
  local tool=$1 limit=$2 act=$3 rec=$4; shift 4
  local log="$L/${tool}_$act.log" t0=$(date +%s)
  timeout "$limit" env SANITIZE_ACTIVATION=$act SANITIZE_RECURRENT_ACTIVATION=$rec compute-sanitizer --tool "$tool" --error-exitcode 9 \
    $([[ $tool == racecheck ]] && echo "${FILTER[@]}") $D/sanitize_driver rnn "$@" > "$log" 2>&1
  echo "$tool $act/$rec $*: rc=$? ($(( $(date +%s) - t0 )) s) $(grep -c FAIL "$log") launch failures;" \
    "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tr '\n' ' ')" \
    "$(grep -cE '^[0-9.]+ s: ' "$log") calls;" \
    "hazards/errors: $(grep -cE 'Race reported|Invalid|Error:' "$log")"
  grep -iE "unrecognized|unknown option|usage" "$log" | head -3
  tar czf "$OUT/rgv_logs.tgz" -C /tmp rgvlogs
}
sanitize memcheck 40 tanh sigmoid gru_reset_before simple_rnn
sanitize memcheck 40 relu hard_sigmoid lstm gru simple_rnn
sanitize racecheck 100 tanh sigmoid gru_reset_before simple_rnn
sanitize racecheck 100 linear hard_sigmoid_keras2 lstm gru
date -u
