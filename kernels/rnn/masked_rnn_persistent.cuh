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

namespace tftrt_masking {
namespace rnn_gpu {

constexpr int kPersistentThreads = 256;

struct PersistentPlan {
  int units_per_block = 0;
  int unit_slices = 0;    // blocks that share one batch slice (barrier group)
  int batch_per_block = 0;
  int batch_slices = 0;
  int rows_per_thread = 0;  // RB of the register tile (RB x 4 outputs); 16 for mma
  int k_splits = 0;         // threads that split the reduction over units
  int column_groups = 0;    // gate columns / 4
  int row_groups = 0;       // ceil(batch_per_block / RB)
  int weight_pitch = 0;     // floats per shared-memory weight row (padded)
  bool cluster = false;     // barrier group = thread-block cluster, h in DSMEM
  bool mma = false;         // fp16/bf16: 16-bit weights and h on the tensor cores
  size_t shared_bytes = 0;
  int blocks() const { return unit_slices * batch_slices; }
};

// Host-side: finds a plan that fits the current device (one block per SM at
// most, every block co-resident), or returns false when the shape must take
// the simple path (fp64, GRU reset_after=false, units % 4 != 0, too large).
// allow_mma: fp16/bf16 may use the tensor-core cluster mode (units % 16 == 0,
// clusters of up to 16 blocks).
// max_batch_slices caps the number of batch slices (clusters that must run at
// the same time).
bool PlanPersistentRnn(const MaskedRnnConfig& config, DType dtype, int num_sms,
                       size_t shared_limit, bool allow_mma, int max_batch_slices,
                       PersistentPlan* plan);

// Launches it. xproj [B, T, G*U] fp32 = x @ kernel + input bias; hbuf holds
// 2 * B * U floats; counters batch_slices zeroed uint32 (done here, on stream).
// Returns a cudaError_t; cudaErrorCooperativeLaunchTooLarge means "not this
// plan" and leaves nothing launched; then *active_clusters > 0 says how many
// clusters of the plan's shape fit at once (re-plan with that many batch slices).
int LaunchPersistentRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                        const PersistentPlan& plan, const float* xproj, float* hbuf,
                        unsigned* counters, cudaStream_t stream, int* active_clusters);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_PERSISTENT_CUH_
