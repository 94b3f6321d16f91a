#!/bin/bash
# Builds bench/build/libtm.so (the kernel layer + the C ABI of bench/capi.cc).
# ARCH defaults to sm_90a (H100 with its arch-specific features: the row-group
# kernel's warpgroup MMA); ARCH=sm_90 builds the row-group kernel on ldmatrix +
# mma.sync. ARCH=compute_80: PTX only, of the sm_80 code (the Hopper-only
# kernels compile to empty bodies), which a Hopper GPU JIT-compiles at load:
# with `harness.py --portable` it runs the code an A100 would (SASS for sm_80
# itself cannot run on sm_90). CI-style multi-arch builds go through Bazel.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${ARCH:-sm_90a}
if [[ $ARCH == compute_* ]]; then
  GENCODE="-gencode arch=$ARCH,code=$ARCH"
else
  GENCODE="-gencode arch=compute_${ARCH#sm_},code=$ARCH"
fi
OUTDIR=${OUTDIR:-bench/build}
mkdir -p "$OUTDIR"
NVCC=${NVCC:-nvcc}
FLAGS="-O3 -std=c++17 --expt-relaxed-constexpr -Xcompiler -fPIC -lineinfo $GENCODE -I."
# STAMPS=1: the row-group kernel records per-step phase times (bench/step_phases.py).
[[ -n ${STAMPS:-} ]] && FLAGS+=" -DTFTRT_MASKING_STEP_STAMPS"
SRCS="kernels/rnn/masked_rnn_dispatch.cu kernels/rnn/masked_rnn_per_step.cu kernels/rnn/masked_rnn_projection.cu kernels/rnn/masked_rnn_grad_gpu.cu
      kernels/rnn/masked_rnn_persistent.cu kernels/rnn/masked_rnn_row_block.cu kernels/rnn/masked_rnn_mma_row_group.cu
      kernels/rnn/masked_rnn_mma_block.cu
      kernels/rnn/masked_rnn_mma_row_group_variants.cu
      kernels/masking/masking_kernel.cu kernels/common/gpu_status.cu"
CCS="kernels/rnn/masked_rnn_config.cc kernels/rnn/rnn_kernel_choice.cc kernels/rnn/rnn_grad_plans.cc kernels/masking/masking_launch_config.cc
     kernels/common/types.cc bench/capi.cc"
# Hopper-only kernels (clusters, wgmma, bulk copies; build_defs/cuda.bzl's min_arch = 90): in a
# compute_80 build, compute_90 PTX (the library needs their launchers; the portable choice never
# launches them).
HOPPER_ONLY="kernels/rnn/masked_rnn_mma_row_group.cu kernels/rnn/masked_rnn_mma_row_group_variants.cu"
# Incremental: an object is rebuilt when its source, any header under kernels/ or bench/, or
# its flags changed (the row-group kernel alone takes ~10 minutes of ptxas on 2 cores).
# FORCE=1 rebuilds everything.
newest_header=$(find kernels bench -name '*.h' -o -name '*.cuh' | xargs stat -c %Y | sort -n | tail -1)
objs=()
for f in $SRCS $CCS; do
  o="$OUTDIR/$(echo "$f" | tr '/' '_').o"
  flags=$FLAGS
  if [[ $ARCH == compute_80 && " $HOPPER_ONLY " == *" $f "* ]]; then
    flags=${FLAGS/$GENCODE/-gencode arch=compute_90,code=compute_90}
  fi
  objs+=("$o")
  if [[ -z ${FORCE:-} && -f $o && "$(cat "$o.flags" 2>/dev/null)" == "$flags${RESOURCE_USAGE:+ -v}" &&
        $(stat -c %Y "$o") -gt $(stat -c %Y "$f") && $(stat -c %Y "$o") -gt $newest_header ]]; then
    continue
  fi
  rm -f "$o.flags"
  ( $NVCC $flags ${RESOURCE_USAGE:+-Xptxas -v} -c "$f" -o "$o" && echo "$flags${RESOURCE_USAGE:+ -v}" > "$o.flags" ) &
done
wait
for o in "${objs[@]}"; do [[ -f $o.flags ]] || { echo "build failed: $o"; exit 1; }; done
$NVCC -shared $GENCODE "${objs[@]}" -o "$OUTDIR/libtm.so"
echo "$ARCH" > "$OUTDIR/libtm.arch"  # what harness.py --portable checks
echo "built $OUTDIR/libtm.so ($ARCH)"
