// The row-block recurrent kernel: small recurrences (LSTM/GRU units <= 128,
// SimpleRNN while its weights fit on one SM) with one launch for all steps and
// no inter-block synchronisation at all.
//
// Each block owns a group of 1, 2 or 4 batch rows and holds the WHOLE recurrent
// kernel on its SM: one thread per gate column, the column's first 32 or 64
// weights in registers and the rest (units > 64) in shared memory. The gate
// lanes of one unit are adjacent, so the cell update gathers them with warp
// shuffles. Batch rows are independent, so blocks never talk to each other: a
// step costs the block's matrix-vector product plus one __syncthreads, not a
// grid or cluster barrier. This is where cuDNN's own persistent kernel was 2-4x faster than the
// sliced persistent kernel (H = 32, 128; bench/NOTES.md).
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_

#include <cuda_runtime.h>

#include <cstddef>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {
namespace rnn_gpu {

struct RowBlockPlan {
  int threads = 0;         // lanes_per_unit * units rounded up to a warp
  int lanes_per_unit = 0;  // 4 (LSTM, GRU: one lane per gate) or 1 (SimpleRNN)
  int register_k = 0;      // 32 or 64: recurrent-kernel rows each thread keeps in registers
  int k_pitch = 0;         // h row length in shared memory: units padded to >= register_k, % 4
  int rows_per_block = 0;  // 1, 2 or 4
  int blocks = 0;
  size_t shared_bytes = 0;
};

// Host-side: returns false when the shape does not fit this kernel (fp64, GRU
// reset_after=false, more than 512 threads, weights beyond shared memory,
// or so many rows that the sliced persistent kernel shares weights better).
bool PlanRowBlockRnn(const MaskedRnnConfig& config, DType dtype, int num_sms,
                     size_t shared_limit, RowBlockPlan* plan);

// xproj [B, T, G*U] fp32 = x @ kernel + input bias. Returns a cudaError_t.
int LaunchRowBlockRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const RowBlockPlan& plan, const float* xproj, cudaStream_t stream);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_
