#!/bin/bash
# One device call: Nsight Compute on one call of a recurrence kernel (default: the tensor-core
# block kernel on the portable path, fp16 and opt-in fp32, LSTM B=8 T=100 H=128), its details
# page (stall reasons, pipes, memory) and its SASS source page with per-instruction stall
# samples, as text in $OUT/logs.tgz.
# Carried: $D with bundle.tgz (c80/libtm.so of ARCH=compute_80 bench/build.sh, -lineinfo).
#   run: D=.devbuild/merged bash bench/ncu_device_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
D=${D:-.devbuild/merged}
KERNEL=${KERNEL:-regex:MmaBlock}
source bench/device_steps.sh
[[ -f $D/bundle.tgz ]] && tar xzf "$D/bundle.tgz" -C "$D"
ncu --version > "$LOGS/ncu_version.txt" 2>&1
profile() {  # profile NAME args of bench/one_call.py...
  local name=$1; shift
  step "ncu_$name" 150 env TM_LIB=$D/c80/libtm.so ncu --set full --import-source yes \
    -k "$KERNEL" -c 1 -f -o "/tmp/$name" python3 bench/one_call.py --portable "$@"
  ncu -i "/tmp/$name.ncu-rep" --page details > "$LOGS/${name}_details.txt" 2>&1
  ncu -i "/tmp/$name.ncu-rep" --page source --csv --print-source sass \
    > "$LOGS/${name}_sass.csv" 2>&1
  grep -E "Duration|Warp Cycles Per Issued|Issued Ipc|Stall|Registers Per|Achieved Occ" \
    "$LOGS/${name}_details.txt" | head -20
}
profile block_fp16 --dtype float16 --b 8 --h 128
profile block_fp32 --dtype float32 --b 8 --h 128 --path blockfp32
echo "total $(( $(date +%s) - START )) s"
exit 0
