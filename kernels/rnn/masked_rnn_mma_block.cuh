// The tensor-core block recurrent kernel: LSTM, GRU (both reset_after),
// SimpleRNN, every activation, fp16/bf16/fp32 with 33-128 units, one launch
// for all steps, compute capability 8.0+ (no cluster).
//
// One block per 8 batch rows holds the WHOLE recurrent kernel in registers as
// mma.sync m16n8k16 A fragments (the row-group kernel's layout: a tile = 4 units
// x 4 gate rows over all of K; a warp owns 2 tiles, 8 units), h as hi + lo
// 16-bit parts in the block's own shared memory (double-buffered B fragments),
// and one __syncthreads per step (two for GRU reset_after=false, whose
// candidate product runs over r * h). Blocks never talk to each other: no grid
// barrier, no L2 exchange. fp32 splits the weights into fp16 hi + lo (3 MMAs
// per k tile): the hi parts in registers, the lo parts in shared memory.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_BLOCK_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_BLOCK_CUH_

#include <cuda_runtime.h>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/rnn_kernel_plans.h"

namespace tftrt_masking {
namespace rnn_gpu {

// MmaBlockPlan and its planner: rnn_kernel_plans.h, rnn_kernel_choice.h.
// xproj [B, T, G*U] fp32 = x @ kernel + input bias. Returns a cudaError_t.
int LaunchMmaBlockRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const MmaBlockPlan& plan, const float* xproj, cudaStream_t stream);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_BLOCK_CUH_
