#!/bin/bash
# One device call for the tensor-core block kernel (issue 19, session 13), run from the root of
# a tree whose .devbuild/block/ holds this branch's libraries (c80/: ARCH=compute_80, sm90a/:
# ARCH=sm_90a; libtm.so + libtm.arch) and bench/ files (harness.py, sanitize_driver.cc), which
# replace the tree's own. Order: what matters most first (portable checks, the LSTM table, the
# cells/activations, sanitizers, then the Hopper build's checks and variants). Logs and json in
# $OUT/logs.tgz.
set -uo pipefail
D=.devbuild/block
BUDGET=${BUDGET:-395}
source bench/device_steps.sh
cp "$D/bench/harness.py" "$D/bench/sanitize_driver.cc" bench/
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
portable=(env TM_LIB=$D/c80/libtm.so TFTRT_MASKING_RNN_PORTABLE=1)
hopper=(env TM_LIB=$D/sm90a/libtm.so)
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -L$D/c80 -ltm \
  -Xlinker -rpath=$PWD/$D/c80 -o /tmp/sanitize_driver > "$LOGS/build_driver.log" 2>&1 &
step check_portable 100 "${portable[@]}" python3 bench/harness.py check --portable
# noblock: the same call without the block kernel (the persistent global modes it replaces).
step bench_portable 75 "${portable[@]}" python3 bench/harness.py bench --portable --skip-masking \
  --paths noblock --bs 1,8,32,128 --ts 100 --fs 64 --hs 128,256 --json "$LOGS/bench_portable.json"
step variants_portable 55 "${portable[@]}" python3 bench/harness.py bench --portable --variants \
  --skip-masking --hs 64,128 --json "$LOGS/variants_portable.json"
wait
for tool in memcheck racecheck; do
  t0=$(date +%s)
  TFTRT_MASKING_RNN_PORTABLE=1 timeout "$(left 45)" compute-sanitizer --tool $tool --error-exitcode 9 \
    /tmp/sanitize_driver block > "$LOGS/${tool}_block_portable.log" 2>&1
  echo "$tool (portable, block): rc=$? ($(( $(date +%s) - t0 )) s)" \
    "$(grep -c FAIL "$LOGS/${tool}_block_portable.log") launch failures;" \
    "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/${tool}_block_portable.log" | tr '\n' ' ')" \
    "$(grep -cE '^[0-9.]+ s: ' "$LOGS/${tool}_block_portable.log") calls done"
done
step check_hopper 45 "${hopper[@]}" python3 bench/harness.py check
step variants_hopper 50 "${hopper[@]}" python3 bench/harness.py bench --variants --skip-masking \
  --hs 64,128 --json "$LOGS/variants_hopper.json"
exit 0
