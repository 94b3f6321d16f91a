#!/bin/bash
# Builds bench/build/libtm.so (the kernel layer + the C ABI of bench/capi.cc).
# ARCH defaults to sm_90a (H100 with its arch-specific features: the row-group
# kernel's warpgroup MMA); ARCH=sm_90 builds the portable path (ldmatrix +
# mma.sync). CI-style multi-arch builds go through Bazel.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${ARCH:-sm_90a}
GENCODE="-gencode arch=compute_${ARCH#sm_},code=$ARCH"
OUTDIR=${OUTDIR:-bench/build}
mkdir -p "$OUTDIR"
NVCC=${NVCC:-nvcc}
FLAGS="-O3 -std=c++17 --expt-relaxed-constexpr -Xcompiler -fPIC -lineinfo $GENCODE -I."
# STAMPS=1: the row-group kernel records per-step phase times (bench/step_phases.py).
[[ -n ${STAMPS:-} ]] && FLAGS+=" -DTFTRT_MASKING_STEP_STAMPS"
SRCS="kernels/rnn/masked_rnn_gpu.cu kernels/rnn/masked_rnn_grad_gpu.cu kernels/rnn/masked_rnn_persistent.cu kernels/rnn/masked_rnn_row_block.cu kernels/rnn/masked_rnn_mma_row_group.cu
      kernels/masking/masking_kernel.cu kernels/common/gpu_status.cu"
CCS="kernels/rnn/masked_rnn_config.cc kernels/masking/masking_launch_config.cc
     kernels/common/types.cc bench/capi.cc"
objs=()
for f in $SRCS $CCS; do
  o="$OUTDIR/$(echo "$f" | tr '/' '_').o"
  $NVCC $FLAGS ${RESOURCE_USAGE:+-Xptxas -v} -c "$f" -o "$o" &
  objs+=("$o")
done
wait
$NVCC -shared $GENCODE "${objs[@]}" -o "$OUTDIR/libtm.so"
echo "built $OUTDIR/libtm.so"
