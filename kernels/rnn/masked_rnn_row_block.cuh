// The row-block recurrent kernel: small recurrences (LSTM/GRU units <= 128,
// SimpleRNN while its weights fit on one SM) with one launch for all steps and
// no inter-block synchronisation at all.
//
// Each block owns a group of 1, 2 or 4 batch rows and holds the WHOLE recurrent
// kernel in registers: one thread per gate column, the column (units <= 128
// weights) in that thread's registers, h in shared memory. LSTM/GRU with more
// than 64 units use a cluster of 2 blocks (half the units each, h written to
// both blocks' shared memory). The gate lanes of one unit are adjacent, so the
// cell update gathers them with warp shuffles. Batch rows are independent, so
// groups never talk to each other: a step costs the matrix-vector product plus
// one block (or 2-block cluster) barrier, not a grid barrier. This is where cuDNN's own persistent kernel was 2-4x faster than the
// sliced persistent kernel (H = 32, 128; bench/NOTES.md).
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_

#include <cuda_runtime.h>

#include <cstddef>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/rnn_kernel_plans.h"

namespace tftrt_masking {
namespace rnn_gpu {

// RowBlockPlan and its planner: rnn_kernel_plans.h, rnn_kernel_choice.h.

// xproj [B, T, G*U] fp32 = x @ kernel + input bias. Returns a cudaError_t;
// cudaErrorCooperativeLaunchTooLarge (nothing launched) when the plan's
// clusters would not all fit on the device at once.
int LaunchRowBlockRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const RowBlockPlan& plan, const float* xproj, cudaStream_t stream);
}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_
