#!/bin/bash
# One device call for issue 18's backward plans (branch next/grad-backward-slices): run from a
# carried tree ($D: kernels/, bench/, python/ of the branch and lib/libtm.so, a compute_80 build
# with sm_90 SASS of the same PTX, libtm.arch compute_80), every call on the portable path.
#   1. bench/grad_slice_sweep.py: both unit-slice passes timed (CUPTI) over forced plans,
#      float32 at B 128/64/8 x H 512/256 x LSTM/GRU (biggest first); float16 at H 512;
#   2. grad_harness.py check; 3. compute-sanitizer memcheck + racecheck of `sanitize_driver grad
#      --auto-only` (the planner's plans), and again with deep rings / 16-bit weights forced;
#   4. grad_harness.py bench --quick.
# Logs and json in $OUT/logs.tgz.   run: cd .devbuild/bwd && bash bench/bwd_device_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export TM_LIB=$PWD/lib/libtm.so CUDA_CACHE_MAXSIZE=4294967296 TFTRT_MASKING_RNN_PORTABLE=1
BUDGET=${BUDGET:-345}
source bench/device_steps.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -Llib -ltm \
  -Xlinker -rpath=$PWD/lib -o /tmp/sanitize_bwd > "$LOGS/build_driver.log" 2>&1 &
step sweep_f32 100 python3 bench/grad_slice_sweep.py --portable --json "$LOGS/sweep_f32.json"
step sweep_f16 35 python3 bench/grad_slice_sweep.py --portable --dtypes float16 --hs 512 \
  --json "$LOGS/sweep_f16.json"
step grad_check 25 python3 bench/grad_harness.py check --portable --json "$LOGS/grad_check.json"
wait
# The sanitizer's shapes (U <= 130) plan one staged chunk per step: the ring is forced too
# (64-float chunks, 3-4 buffers; and 16-bit weights, whose float32/float64 cases fall back).
step grad_memcheck 20 compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/sanitize_bwd \
  grad --auto-only
step grad_memcheck_rings 20 env TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN=0,64,0,4 \
  compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/sanitize_bwd grad --auto-only
step grad_racecheck 40 compute-sanitizer --tool racecheck --error-exitcode 9 /tmp/sanitize_bwd \
  grad --auto-only lstm simple_rnn
step grad_racecheck_rings 25 env TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN=0,64,0,4 \
  compute-sanitizer --tool racecheck --error-exitcode 9 /tmp/sanitize_bwd grad --auto-only lstm
step grad_racecheck_rings_w2 25 env TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN=0,64,0,3,0,1,2 \
  compute-sanitizer --tool racecheck --error-exitcode 9 /tmp/sanitize_bwd grad --auto-only gru
step grad_bench 45 python3 bench/grad_harness.py bench --quick --portable \
  --json "$LOGS/grad_bench.json"
for f in grad_memcheck grad_memcheck_rings grad_racecheck grad_racecheck_rings grad_racecheck_rings_w2; do
  echo "$f: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|failures' "$LOGS/$f.log" | tr '\n' ' ')"
done
grep -E "auto vs reference|: auto|backward:|recompute:|FAIL|failures" "$LOGS/sweep_f32.log" | head -60
echo "total $(( $(date +%s) - START )) s"
exit 0
