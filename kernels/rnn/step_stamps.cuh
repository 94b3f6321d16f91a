// Per-step phase timestamps of the row-group recurrence, read by
// bench/step_phases.py to find where a step's time goes. Compiled in only with
// -DTFTRT_MASKING_STEP_STAMPS (bench/build.sh with STAMPS=1); otherwise
// StepStamp is empty and the kernel is unchanged. Include from one .cu only:
// it defines the device buffer and its C reader.
#pragma once

#include <cuda_runtime.h>

namespace tftrt_masking {
namespace rnn_gpu {

// Lane 0 of each warp of the first kStampBlocks blocks, steps
// [kStampFirstStep, kStampFirstStep + kStampSteps): past the start-up.
constexpr int kStampBlocks = 16;
constexpr int kStampWarps = 8;
constexpr int kStampFirstStep = 64;
constexpr int kStampSteps = 64;
constexpr int kStampPhases = 8;  // phase 7 of the first step: the block's SM id

#ifdef TFTRT_MASKING_STEP_STAMPS
// [block][warp][step][phase][clock64, globaltimer]
__device__ unsigned long long g_step_stamps[kStampBlocks][kStampWarps][kStampSteps][kStampPhases][2];

__device__ __forceinline__ void StepStamp(int phase, int tau) {
  const int s = tau - kStampFirstStep;
  if ((threadIdx.x & 31) != 0 || s < 0 || s >= kStampSteps || blockIdx.x >= kStampBlocks) return;
  unsigned long long clock, global;
  asm volatile("mov.u64 %0, %%clock64;\n" : "=l"(clock)::"memory");
  asm volatile("mov.u64 %0, %%globaltimer;\n" : "=l"(global)::"memory");
  unsigned long long* at = g_step_stamps[blockIdx.x][threadIdx.x >> 5][s][phase];
  at[0] = clock;
  at[1] = global;
  if (s == 0 && phase == 0) {
    unsigned sm;
    asm volatile("mov.u32 %0, %%smid;\n" : "=r"(sm));
    g_step_stamps[blockIdx.x][threadIdx.x >> 5][0][kStampPhases - 1][0] = sm;
  }
}
#else
__device__ __forceinline__ void StepStamp(int, int) {}
#endif

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#ifdef TFTRT_MASKING_STEP_STAMPS
// Copies the stamps into `host` (sizeof g_step_stamps bytes) and zeroes them.
extern "C" int tm_step_stamps(void* host) {
  void* stamps = nullptr;
  cudaError_t error = cudaGetSymbolAddress(&stamps, tftrt_masking::rnn_gpu::g_step_stamps);
  const size_t bytes = sizeof(tftrt_masking::rnn_gpu::g_step_stamps);
  if (error == cudaSuccess) error = cudaMemcpy(host, stamps, bytes, cudaMemcpyDeviceToHost);
  if (error == cudaSuccess) error = cudaMemset(stamps, 0, bytes);
  return static_cast<int>(error);
}
#endif
