#!/bin/bash
# One device call for issue 18's backward plans (branch next/grad-backward-slices): run from a
# carried tree ($D: kernels/, bench/, python/ of the branch and lib/libtm.so, a compute_80 build
# with sm_90 SASS of the same PTX, libtm.arch compute_80), every call on the portable path.
#   1. bench/grad_slice_sweep.py: both unit-slice passes timed (CUPTI) over forced plans,
#      float32 at B 8/64/128 x H 256/512 x LSTM/GRU; then float16, the auto and old plans only;
#   2. grad_harness.py check; 3. compute-sanitizer memcheck + racecheck of `sanitize_driver grad
#      --auto-only` (the planner's plans), racecheck again with deep rings forced;
#   4. grad_harness.py bench --quick.
# Logs and json in $OUT/logs.tgz.   run: cd .devbuild/bwd && bash bench/bwd_device_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export TM_LIB=$PWD/lib/libtm.so CUDA_CACHE_MAXSIZE=4294967296 TFTRT_MASKING_RNN_PORTABLE=1
BUDGET=${BUDGET:-335}
source bench/device_steps.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Llib -ltm \
  -Xlinker -rpath=$PWD/lib -o /tmp/sanitize_bwd > "$LOGS/build_driver.log" 2>&1 &
step sweep_f32 125 python3 bench/grad_slice_sweep.py --portable --json "$LOGS/sweep_f32.json"
step sweep_f16 30 python3 bench/grad_slice_sweep.py --portable --quick --dtypes float16 \
  --json "$LOGS/sweep_f16.json"
step grad_check 35 python3 bench/grad_harness.py check --portable --json "$LOGS/grad_check.json"
wait
step grad_memcheck 45 compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/sanitize_bwd \
  grad --auto-only
step grad_racecheck 40 compute-sanitizer --tool racecheck --error-exitcode 9 /tmp/sanitize_bwd \
  grad --auto-only
step grad_racecheck_rings 30 env TFTRT_MASKING_RNN_GRAD_RECOMPUTE_PLAN=0,64,0,3 \
  TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN=0,64,0,4 compute-sanitizer --tool racecheck \
  --error-exitcode 9 /tmp/sanitize_bwd grad --auto-only
step grad_bench 45 python3 bench/grad_harness.py bench --quick --portable \
  --json "$LOGS/grad_bench.json"
for f in grad_memcheck grad_racecheck grad_racecheck_rings; do
  echo "$f: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|failures' "$LOGS/$f.log" | tr '\n' ' ')"
done
grep -E "auto vs reference|: auto|backward:|recompute:|FAIL|failures" "$LOGS/sweep_f32.log" | head -60
echo "total $(( $(date +%s) - START )) s"
exit 0
