#!/bin/bash
# One device call for issue 18's tensor-core products (session 14, branch next/grad-tc-gemm):
#   1. the CUDA gradient's check (grad_harness.py: every path, with 'fast' = the recompute on
#      the forward's kernels forced wherever it fits);
#   2. the training-step table (grad_harness.py bench --quick) and the per-kernel profile
#      (grad_profile.py; and the forced fast recompute for float32 H = 512);
#   3. compute-sanitizer: memcheck of `sanitize_driver grad --auto-only` and of
#      `grad --products` (every path), racecheck of `grad --products --auto-only` (the
#      tensor-core tiles; only StridedGemmTcKernel instrumented where the tool can filter).
# Carried in $D (built on the host): libtm.so (sm_90a) + libtm.arch, bench/*.py and *.sh,
# bench/sanitize_driver.cc, kernels/ (the driver's headers), python/ and this script.
# Logs in $OUT/logs.tgz.
#   run: cd .devbuild/gemm && bash run.sh   (run.sh = this file)
set -uo pipefail
cd "$(dirname "$0")"
D=$PWD
source bench/device_steps.sh
BUDGET=${BUDGET:-340}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version())" \
  | tee -a "$LOGS/gpu.txt"
export TM_LIB=$D/libtm.so
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -L$D -ltm -Xlinker -rpath=$D \
  -o /tmp/sanitize_gemm > "$LOGS/build_driver.log" 2>&1 &
step grad_check 70 python3 bench/grad_harness.py check --json "$LOGS/grad_check.json"
tail -2 "$LOGS/grad_check.log"
step grad_bench 90 python3 bench/grad_harness.py bench --quick --json "$LOGS/grad_bench.json"
tail -26 "$LOGS/grad_bench.log" | cut -c1-160
step grad_profile 60 python3 bench/grad_profile.py --json "$LOGS/grad_profile.json"
wait
FILTER=()
compute-sanitizer --help 2>&1 | grep -q -- "--kernel-name" && \
  FILTER=(--kernel-name kns=StridedGemmTcKernel)
echo "racecheck filter: ${FILTER[*]:-none}"
step memcheck_auto 40 compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/sanitize_gemm \
  grad --auto-only
step memcheck_products 40 compute-sanitizer --tool memcheck --error-exitcode 9 \
  /tmp/sanitize_gemm grad --products
step racecheck_products 60 compute-sanitizer --tool racecheck --error-exitcode 9 "${FILTER[@]}" \
  /tmp/sanitize_gemm grad --products --auto-only
for f in memcheck_auto memcheck_products racecheck_products; do
  echo "$f: $(grep -cE '^[0-9.]+ s: ' "$LOGS/$f.log") calls; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|failures' "$LOGS/$f.log" | tr '\n' ' ')"
done
step grad_profile_fast 30 python3 bench/grad_profile.py --path fast --dtypes float32 --hs 512 \
  --json "$LOGS/grad_profile_fast.json"
echo "total $(( $(date +%s) - START )) s"
exit 0
