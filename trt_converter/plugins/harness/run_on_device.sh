#!/bin/bash
# Builds pluginHarness with nvcc against TensorRT 8.6 headers and runs harness.py
# (every case, then compute-sanitizer). Run from the repository root on the GPU
# machine (device tool), with the headers copied into an ignored, carried folder:
#   mkdir -p .devtrt && cp -r third_party_local/tensorrt-8.6.1/include .devtrt/
#   run: bash trt_converter/plugins/harness/run_on_device.sh      (carry: .devtrt)
# PORTABLE=1: the portable path (issue 19) - compute_80 PTX (the Hopper-only row-group kernel as
# compute_90 PTX, never chosen), TFTRT_MASKING_RNN_PORTABLE=1: what an A100 runs, on this GPU.
# PREBUILT=path: run that pluginHarness binary (built here with the same flags: BUILD_ONLY=1 on
# a machine with nvcc and no GPU) instead of building one; BUILD_ONLY=1: build, do not run.
set -euo pipefail
TRT_INCLUDE=${TRT_INCLUDE:-.devtrt/include}
BUILD=${BUILD:-/tmp/plugin_harness_build}
ARCH=${ARCH:-90a}
LOG_DIR=${OUT:-$BUILD}
mkdir -p "$BUILD"
[[ -z ${BUILD_ONLY:-} ]] &&
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$LOG_DIR/gpu.txt"
nvcc --version | tail -2

GENCODE="arch=compute_$ARCH,code=sm_$ARCH"
if [[ -n ${PORTABLE:-} ]]; then
  GENCODE="arch=compute_80,code=compute_80"
  export TFTRT_MASKING_RNN_PORTABLE=1
fi
FLAGS=(-std=c++17 -O3 -lineinfo --expt-relaxed-constexpr -gencode "$GENCODE"
       -diag-suppress 997 -Xcompiler -fPIC,-Wno-deprecated-declarations -I. -I"$TRT_INCLUDE")
SOURCES=(kernels/common/gpu_status.cu kernels/masking/masking_kernel.cu
         kernels/rnn/masked_rnn_dispatch.cu kernels/rnn/masked_rnn_per_step.cu
         kernels/rnn/masked_rnn_projection.cu kernels/rnn/masked_rnn_persistent.cu
         kernels/rnn/masked_rnn_row_block.cu kernels/rnn/masked_rnn_mma_row_group.cu
         kernels/rnn/masked_rnn_mma_block.cu
         kernels/rnn/masked_rnn_mma_row_group_variants.cu
         kernels/common/types.cc kernels/masking/masking_launch_config.cc
         kernels/rnn/masked_rnn_config.cc kernels/rnn/rnn_kernel_choice.cc
         kernels/rnn/masked_rnn_shapes.cc
         trt_converter/plugins/common/pluginUtils.cpp
         trt_converter/plugins/maskingPlugin/maskingPlugin.cpp
         trt_converter/plugins/maskedRnnPlugin/maskedRnnPlugin.cpp
         trt_converter/plugins/pluginRegistration.cpp
         trt_converter/plugins/harness/pluginHarness.cpp)
# Hopper-only kernels (clusters, wgmma): compute_90 PTX in a portable build (never chosen there).
HOPPER_ONLY=(kernels/rnn/masked_rnn_mma_row_group.cu kernels/rnn/masked_rnn_mma_row_group_variants.cu)
binary=$BUILD/pluginHarness
if [[ -n ${PREBUILT:-} ]]; then
  binary=$PREBUILT
  echo "prebuilt: $binary"
else
  start=$(date +%s)
  objects=()
  for src in "${SOURCES[@]}"; do
    obj="$BUILD/$(echo "$src" | tr / _).o"
    objects+=("$obj")
    lang=(); case "$src" in *.cc|*.cpp) lang=(-x cu);; esac
    flags=("${FLAGS[@]}")
    if [[ -n ${PORTABLE:-} && " ${HOPPER_ONLY[*]} " == *" $src "* ]]; then
      flags=("${flags[@]/$GENCODE/arch=compute_90,code=compute_90}")
    fi
    nvcc "${flags[@]}" "${lang[@]}" -c "$src" -o "$obj" &
  done
  wait
  nvcc "${FLAGS[@]}" "${objects[@]}" -ldl -o "$binary"
  echo "built in $(( $(date +%s) - start ))s"
fi
[[ -n ${BUILD_ONLY:-} ]] && exit 0
python3 trt_converter/plugins/harness/harness.py --binary "$binary" --sanitizer \
  --work "$BUILD/cases" "$@" 2>&1 | tee "$LOG_DIR/harness_log.txt"
