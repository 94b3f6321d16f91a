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

namespace tftrt_masking {
namespace rnn_gpu {

struct RowBlockPlan {
  int threads = 0;          // lanes_per_unit * units_per_block rounded up to a warp
  int lanes_per_unit = 0;   // 4 (LSTM, GRU: one lane per gate), 1 (SimpleRNN), 0 (warp-row)
  int register_k = 0;       // 64 or 128: units padded; the column's weights in registers;
                            // 32: warp-row mode (units <= 32, one warp per row, lane = unit)
  int units_per_block = 0;  // units / cluster_size, rounded up
  int cluster_size = 0;     // 1, or 2 (Hopper) when 4 lanes x units > 256 threads
  int rows_per_block = 0;   // 1, 2 or 4 (warp-row mode: warps per block)
  int blocks = 0;
  size_t shared_bytes = 0;
  bool overlap_projection = false;  // sm_90+: starts during the input projection's tail
};

// Host-side: returns false when the shape does not fit this kernel (fp64, GRU
// reset_after=false, activations other than tanh/sigmoid, units > 128, a
// 2-block cluster where the device has none (clusters = false: before sm_90,
// which also means no overlap with the input projection), or so many
// rows that the sliced persistent kernel shares weights better).
bool PlanRowBlockRnn(const MaskedRnnConfig& config, DType dtype, int num_sms, bool clusters,
                     size_t shared_limit, RowBlockPlan* plan);

// xproj [B, T, G*U] fp32 = x @ kernel + input bias. Returns a cudaError_t;
// cudaErrorCooperativeLaunchTooLarge (nothing launched) when the plan's
// clusters would not all fit on the device at once.
int LaunchRowBlockRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const RowBlockPlan& plan, const float* xproj, cudaStream_t stream);
}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_ROW_BLOCK_CUH_
