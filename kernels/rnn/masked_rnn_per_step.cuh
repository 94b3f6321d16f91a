// The per-step path of the GPU recurrence: one launch per step (two for GRU
// reset_after=false), one thread per (batch row, unit), double-buffered h in
// the workspace. Every shape, activation and dtype (float64 with double
// accumulation): the last candidate of kernel choice.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PER_STEP_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PER_STEP_CUH_

#include <cuda_runtime.h>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {
namespace rnn_gpu {

// xproj: [B, T, G*U] = x @ kernel + input bias in the accumulation type
// (double for float64, else float), at the workspace's layout.xproj;
// workspace: masked_rnn_workspace.h's layout. Returns a cudaError_t.
int LaunchPerStepRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                     char* workspace, cudaStream_t stream);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PER_STEP_CUH_
