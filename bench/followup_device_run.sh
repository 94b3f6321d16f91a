#!/bin/bash
# One device call for the checks a session owes its predecessor's tree (no build here):
#   1. the TensorRT plugin harness on the portable path (a pluginHarness binary built on the
#      host with `PORTABLE=1 BUILD_ONLY=1 ... trt_converter/plugins/harness/run_on_device.sh`);
#   2. compute-sanitizer memcheck (every path) and racecheck (the launcher's choice) of the CUDA
#      gradient (`sanitize_driver grad`);
#   3. where the gradient's time goes (bench/grad_profile.py: CUPTI, kernels in launch order).
# Carried: the libraries of bench/merged_device_run.sh ($D, bundle.tgz with sm90a/) and the
# harness binary ($PH). Logs in $OUT/logs.tgz.
#   run: D=.devbuild/merged PH=.devbuild/m2/pluginHarness bash bench/followup_device_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
D=${D:-.devbuild/merged}
PH=${PH:-$D/pluginHarness}
source bench/device_steps.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$LOGS/gpu.txt"
[[ -f $D/bundle.tgz ]] && tar xzf "$D/bundle.tgz" -C "$D"
nvcc -O2 -std=c++17 -arch=sm_90 -I. bench/sanitize_driver.cc -L$D/sm90a -ltm \
  -Xlinker -rpath=$PWD/$D/sm90a -o /tmp/sanitize_sm90a > "$LOGS/build_driver.log" 2>&1 &
step plugin_portable 150 env PORTABLE=1 PREBUILT=$PH BUILD=/tmp/ph OUT=$LOGS \
  TRT_INCLUDE=/nonexistent bash trt_converter/plugins/harness/run_on_device.sh
wait
step grad_memcheck 130 compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/sanitize_sm90a grad
step grad_racecheck 90 compute-sanitizer --tool racecheck --error-exitcode 9 /tmp/sanitize_sm90a \
  grad --auto-only
step grad_profile 100 env TM_LIB=$D/sm90a/libtm.so python3 bench/grad_profile.py \
  --json "$LOGS/grad_profile.json"
for f in grad_memcheck grad_racecheck; do
  echo "$f: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|failures' "$LOGS/$f.log" | tr '\n' ' ')"
done
echo "total $(( $(date +%s) - START )) s"
exit 0
