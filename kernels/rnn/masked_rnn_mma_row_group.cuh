// The tensor-core row-group recurrent kernel: fp16/bf16 LSTM and GRU
// (reset_after) with 65-512 units, one launch for all steps.
//
// A thread-block cluster owns a group of 8 or 16 batch rows and holds the WHOLE
// recurrent kernel in registers, as mma.sync A fragments: each warp owns 4
// units, i.e. the 16 gate columns (4 gates x 4 units) of one m16n8k16 tile row
// over all of K. h (fp32 state) enters the product as two 16-bit parts,
// hi + lo (two MMAs per k tile; hi alone, what cuDNN's fp16 recurrence uses,
// let chaotic recurrences drift to O(1) errors), which live in every block's
// shared memory as B operands; each warp pushes the h of its 4 units to every block of the
// cluster through DSMEM (st.async, counted on the receiver's mbarrier), and a
// block starts its next step as soon as all of h has arrived: no barrier per
// step. Batch rows are independent, so clusters never wait on each other: the
// step costs the tensor-core product, one warp's cell update and one DSMEM
// trip, and 8 or 16 rows cost the same as one.
//
// Sizes: blocks of 4 warps while the clusters fit the device at once, else of 8
// (65-128 units: clusters of 5-8 or 3-4 blocks; 129-256: 9-16 or 5-8; 257-512: 9-16
// blocks of 8 warps; clusters > 8 are a non-portable size, which Hopper has).
// Hopper (sm_90) and newer only.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_CUH_

#include <cuda_runtime.h>

#include <cstddef>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {
namespace rnn_gpu {

struct MmaRowGroupPlan {
  int unit_warps = 0;  // warps in a cluster: a warp owns 4 units
  int k_tiles = 0;     // 8, 16 or 32: K = units padded to 16 * k_tiles
};

// Host-side and pure: false when the shape is not this kernel's (compute
// capability < 9, fp32/fp64, SimpleRNN, GRU reset_after=false, activations other
// than tanh/sigmoid, units outside 65-512).
bool PlanMmaRowGroupRnn(const MaskedRnnConfig& config, DType dtype, int cc_major,
                        MmaRowGroupPlan* plan);

// xproj [B, T, G*U] fp32 = x @ kernel + input bias. Rows per cluster (8 or 16)
// are chosen from how many clusters the device holds at once. Returns a
// cudaError_t; cudaErrorCooperativeLaunchTooLarge (nothing launched) when the
// batch would need more than two waves of clusters or no cluster fits.
int LaunchMmaRowGroupRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                         const MmaRowGroupPlan& plan, const float* xproj, cudaStream_t stream);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_CUH_
