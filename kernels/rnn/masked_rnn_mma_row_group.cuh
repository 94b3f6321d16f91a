// The tensor-core row-group recurrent kernel: LSTM, GRU and SimpleRNN with any
// activations, fp16/bf16 with 65-512 units and fp32 with 65-128, one launch
// for all steps.
//
// A thread-block cluster owns a group of 8, 16, 24 or 32 batch rows and holds
// the WHOLE recurrent kernel in registers, as mma.sync A fragments: each warp
// owns 4 units, i.e. the 16 gate columns (4 gates x 4 units) of one m16n8k16
// tile row over all of K. h (fp32 state) enters the product as two 16-bit
// parts, hi + lo (two MMAs per k tile; hi alone, what cuDNN's fp16 recurrence
// uses, let chaotic recurrences drift to O(1) errors), which live in every
// block's shared memory as B operands; each block sends its units' h to every
// block of the cluster through DSMEM (one bulk copy per peer, or st.async per
// packet for few rows, counted on the receiver's mbarrier), and a block starts
// its next step as soon as all of h has arrived: no barrier between blocks per
// step. fp32 also splits the weights into fp16 hi + lo (3 MMAs per k tile).
// Batch rows are independent, so clusters never wait on each other.
//
// Sizes: blocks of 4 warps while the clusters of 8-row groups fit the device at
// once, else of 8 with 8-32 rows per cluster (65-128 units: clusters of 5-8 or
// 3-4 blocks; 129-256: 9-16 or 5-8; 257-512: 9-16 blocks of 8 warps; clusters
// > 8 are a non-portable size, which Hopper has). Hopper (sm_90) and newer only.
//
// Variants (plan.variant_kernels, their own kernels): non-default activations
// at run time; SimpleRNN in the same layout (a warp's 4 units, 12 of its 16
// tile rows zero); GRU reset_after=False with two exchanges per step (r * h of
// every unit goes to every block like h, st.async packets only, before the
// candidate's product over it).
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_CUH_

#include <cuda_runtime.h>

#include <cstddef>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/rnn_kernel_plans.h"

namespace tftrt_masking {
namespace rnn_gpu {

// MmaRowGroupPlan and its planner: rnn_kernel_plans.h, rnn_kernel_choice.h.

// xproj [B, T, G*U] fp32 = x @ kernel + input bias. Rows per cluster (8-32)
// are chosen from how many clusters the device holds at once. Returns a
// cudaError_t; cudaErrorCooperativeLaunchTooLarge (nothing launched) when the
// batch would need more than two waves of 32-row clusters or no cluster fits.
int LaunchMmaRowGroupRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                         const MmaRowGroupPlan& plan, const float* xproj, cudaStream_t stream);
// The same for plan.variant_kernels (masked_rnn_mma_row_group_variants.cu);
// LaunchMmaRowGroupRnn calls it.
int LaunchMmaRowGroupRnnVariant(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                                const MmaRowGroupPlan& plan, const float* xproj,
                                cudaStream_t stream);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_CUH_
