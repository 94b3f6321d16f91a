#!/bin/bash
# One device call: the unit-slice plan sweep at 128 units (bench/grad_slice_sweep.py; the
# backward pass is what runs there, the recompute being the forward's), fp32 then fp16, on the
# carried sm_90a library ($D/sm90a), logs and json in $OUT/logs.tgz.
#   run: D=.devbuild/merged bash bench/sweep128_device_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
D=${D:-.devbuild/merged}
source bench/device_steps.sh
hopper=(env TM_LIB=$D/sm90a/libtm.so)
step sweep128_f32 120 "${hopper[@]}" python3 bench/grad_slice_sweep.py --hs 128 --bs 128,64,8 \
  --dtypes float32 --passes backward --json "$LOGS/sweep128_f32.json"
step sweep128_f16 100 "${hopper[@]}" python3 bench/grad_slice_sweep.py --hs 128 --bs 128,64,8 \
  --dtypes float16 --passes backward --json "$LOGS/sweep128_f16.json"
echo "total $(( $(date +%s) - START )) s"
exit 0
