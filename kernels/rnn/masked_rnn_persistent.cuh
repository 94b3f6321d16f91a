// The persistent recurrent kernel: one cooperative launch runs every timestep.
// Each block keeps a slice of the recurrent weights (units_per_block units, all
// gates) in shared memory for the whole sequence and owns the state of those
// units for batch_per_block batch rows. h of the whole batch slice goes through
// L2 (double-buffered, fp32) with one group barrier per step among the blocks
// of one batch slice (a batch slice whose units fit one block needs none), or,
// for groups of at most 8 blocks, through distributed shared memory with one
// cluster barrier per step.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PERSISTENT_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PERSISTENT_CUH_

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/rnn_kernel_plans.h"

namespace tftrt_masking {
namespace rnn_gpu {

// PersistentPlan and its planner: rnn_kernel_plans.h, rnn_kernel_choice.h.

// The kernel's device buffers (the workspace's regions).
struct PersistentBuffers {
  const float* xproj = nullptr;  // [B, T, G*U] fp32 = x @ kernel + input bias
  float* hbuf = nullptr;         // 2 * B * U floats: h through L2, double-buffered
  float* scratch = nullptr;      // B * U floats: GRU reset_after=false r*h
  unsigned* counters = nullptr;  // batch_slices uint32 (zeroed here, on the stream)
};

// Launches it. Returns a cudaError_t; cudaErrorCooperativeLaunchTooLarge means
// "not this plan" and leaves nothing launched; then *active_clusters > 0 says
// how many clusters of the plan's shape fit at once (re-plan with that many
// batch slices).
int LaunchPersistentRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                        const PersistentPlan& plan, const PersistentBuffers& buffers,
                        cudaStream_t stream, int* active_clusters);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PERSISTENT_CUH_
