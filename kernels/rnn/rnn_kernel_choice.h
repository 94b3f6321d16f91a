// Which kernels run a masked recurrence on a GPU: one pure function of the
// shape, the dtype, the GPU's properties and the debug options, decided before
// anything launches (CUDA-free: tests/recurrent/rnn_kernel_choice_test.cc
// checks it on the host for the GPUs people run, H100 to T4).
//
// The answer is the input projection's tiles and an ordered list of
// recurrence candidates, each fully planned. The dispatcher
// (masked_rnn_dispatch.cu) launches the first one; only a cluster family can
// answer cudaErrorCooperativeLaunchTooLarge at launch (whether its clusters
// all fit at once depends on how the GPU groups its SMs into GPCs and on the
// compiled kernel's registers, which only cudaOccupancyMaxActiveClusters of
// that kernel tells), and then the next candidate runs. The per-step family
// is always last and always launches.
#ifndef TFTRT_MASKING_KERNELS_RNN_RNN_KERNEL_CHOICE_H_
#define TFTRT_MASKING_KERNELS_RNN_RNN_KERNEL_CHOICE_H_

#include <cstddef>
#include <string>

#include "kernels/common/types.h"
#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/rnn_grad_plans.h"
#include "kernels/rnn/rnn_kernel_plans.h"

namespace tftrt_masking {

// What kernel choice reads of a GPU (cudaDeviceProp's names in comments).
struct GpuProps {
  int cc_major = 0;                  // major
  int cc_minor = 0;                  // minor
  int sm_count = 0;                  // multiProcessorCount
  size_t shared_per_block_optin = 0;  // sharedMemPerBlockOptin
  size_t shared_per_sm = 0;          // sharedMemPerMultiprocessor
  // Thread-block clusters, DSMEM, programmatic dependent launch, bulk copies:
  // compute capability 9.0 and newer.
  bool clusters() const { return cc_major >= 9; }
};

// Every debug knob of the recurrence, read once per call at the API entry
// (LaunchMaskedRnn: RnnKernelOptionsFromEnvironment) or passed explicitly
// (LaunchMaskedRnnWithOptions, the bench harness' C ABI). Defaults: the
// fastest kernels that apply.
struct RnnKernelOptions {
  bool per_step_only = false;            // TFTRT_MASKING_RNN_SIMPLE
  bool no_row_kernels = false;           // TFTRT_MASKING_RNN_NO_ROW_BLOCK: no row-block, no row-group
  bool no_mma_row_group = false;         // TFTRT_MASKING_RNN_NO_MMA_ROWS
  rnn_gpu::RowGroupCopy row_group_copy = rnn_gpu::RowGroupCopy::kAuto;
                                         // TFTRT_MASKING_RNN_ROWS_ST_ASYNC / _ROWS_BULK
  bool row_group_8_warps = false;        // TFTRT_MASKING_RNN_ROWS_8_WARPS
  bool no_mma_block = false;             // TFTRT_MASKING_RNN_NO_MMA_BLOCK
  // float32 on the tensor-core block kernel too (TFTRT_MASKING_RNN_MMA_BLOCK_FP32;
  // off by default: see PlanMmaBlockRnn).
  bool mma_block_fp32 = false;
  bool no_clusters = false;              // TFTRT_MASKING_RNN_NO_CLUSTER (projection K split, persistent)
  bool no_persistent_mma = false;        // TFTRT_MASKING_RNN_NO_MMA
  bool no_overlap = false;               // TFTRT_MASKING_RNN_NO_OVERLAP (programmatic dependent launch)
  bool no_pipelined_projection = false;  // TFTRT_MASKING_RNN_NO_PIPELINED_PROJECTION
  // TFTRT_MASKING_RNN_PORTABLE: choose as on a GPU of the portable class
  // (compute capability 8.0: no clusters, no Hopper families; shared memory
  // capped at an A100's), whatever this GPU is. With a build whose code for
  // this GPU is the compute_80 PTX (bench/build.sh ARCH=compute_80), an H200
  // runs exactly the code and the choice an A100 would: timed on an H200, it
  // is not a measurement on an A100 (SM count, clocks and memory stay the H200's).
  bool portable_class = false;
  // The gradient (masked_rnn_grad_gpu.cu): one launch per product and step
  // (TFTRT_MASKING_RNN_GRAD_PER_STEP), or the split-K persistent cooperative
  // kernels, also beyond their size rule (TFTRT_MASKING_RNN_GRAD_PERSISTENT);
  // both skip the unit-slice kernels (weights on chip, one barrier per step).
  bool grad_per_step = false;
  bool grad_persistent = false;
  // The unit-slice kernels recompute the forward step by step even where the
  // forward's own kernels would (TFTRT_MASKING_RNN_GRAD_SLICE_RECOMPUTE; A/B).
  bool grad_slice_recompute = false;
  // The forward's own kernels recompute it wherever the gradient's workspace
  // has room for that (up to 512 units), also where the rule prefers the
  // unit-slice recompute (TFTRT_MASKING_RNN_GRAD_FAST_RECOMPUTE; A/B).
  bool grad_fast_recompute = false;
  // Bench only: the gradient stops after the forward recompute, its outputs
  // left unwritten (TFTRT_MASKING_RNN_GRAD_RECOMPUTE_ONLY): times that pass.
  bool grad_recompute_only = false;
  // Bench only: parts of the unit-slice kernels' plan fixed per pass ([0] the
  // recompute, [1] the backward; see UnitSliceForce), for sweeps over plans
  // (bench/grad_slice_sweep.py). A forced plan that does not fit leaves the
  // unit-slice kernels out, as when no plan fits.
  rnn_grad_gpu::UnitSliceForce grad_slice_force[2];
};

// The knobs from the environment (set unless unset, empty or "0").
RnnKernelOptions RnnKernelOptionsFromEnvironment();

// The properties kernel choice uses when options.portable_class is set.
GpuProps PortableClassProps(const GpuProps& props);

// Pointer facts the choice depends on (the caller's tensors).
struct RnnArgsAlignment {
  bool mask_4_bytes = true;        // mask % 4 == 0: the row-block kernel copies it in words
  bool x_kernel_16_bytes = true;   // x and kernel % 16 == 0: pipelined projection tiles
};

enum class RnnFamily {
  kMmaRowGroup,  // sm_90+: tensor-core row groups on thread-block clusters
  kRowBlock,     // every arch (2-block clusters on sm_90+ only): small recurrences
  kMmaBlock,     // sm_80+: tensor-core fragments on one block per 8 rows, 33-128 units
  kPersistent,   // weights in shared memory over a cluster (sm_90+) or a grid (every arch)
  kPerStep,      // every arch, every shape: one launch per step
};
const char* RnnFamilyName(RnnFamily family);

struct RnnKernelCandidate {
  RnnFamily family = RnnFamily::kPerStep;
  rnn_gpu::MmaRowGroupPlan mma_row_group;  // family kMmaRowGroup
  rnn_gpu::RowBlockPlan row_block;         // family kRowBlock
  rnn_gpu::MmaBlockPlan mma_block;         // family kMmaBlock
  rnn_gpu::PersistentPlan persistent;      // family kPersistent
  // kPersistent: PlanPersistentRnn's allow_mma (a re-plan with fewer batch
  // slices, after the clusters did not all fit, keeps it).
  bool persistent_allow_mma = false;
};

// The input projection xproj = x @ kernel + bias (masked_rnn_projection.cuh).
struct ProjectionChoice {
  bool k_split_clusters = false;  // sm_90+: small products split K over a cluster
  bool fp32_as_tf32x3 = false;    // fp32 big products on the tensor cores (3xTF32)
  bool pipelined = false;         // 16-byte cp.async tiles where the rows are whole pieces
};

struct RnnKernelChoice {
  ProjectionChoice projection;
  // Row group, row block, tensor-core block, persistent tensor-core and FFMA
  // plans, per step.
  static constexpr int kMaxCandidates = 6;
  int candidate_count = 0;
  RnnKernelCandidate candidates[kMaxCandidates];  // the last one is kPerStep
  const RnnKernelCandidate& first() const { return candidates[0]; }
};

// The choice for one call (config valid, batch >= 1).
RnnKernelChoice ChooseRnnKernel(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                                const RnnKernelOptions& options,
                                const RnnArgsAlignment& alignment = RnnArgsAlignment());

// One line per candidate, e.g. "row_block threads=128 ... | per_step" (tests, logs).
std::string DescribeRnnKernelChoice(const RnnKernelChoice& choice);

namespace rnn_gpu {

// The families' planners (pure). Each returns false when the shape is not
// the family's or does not fit the GPU.

// Tensor-core row groups: LSTM, GRU, SimpleRNN (tanh: above 128 units), any
// activations, fp16/bf16 with 65-512 units, fp32 with 65-128; compute
// capability 9+. Other than LSTM / GRU reset_after with tanh/sigmoid: the
// variants' kernels (plan->variant_kernels).
bool PlanMmaRowGroupRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                        const RnnKernelOptions& options, MmaRowGroupPlan* plan);

// Row blocks: fp32/fp16/bf16, tanh/sigmoid, units <= 128 (GRU reset_after
// only), batch <= 4 x SMs; a 2-block cluster (units > 64, LSTM/GRU) only
// where the GPU has clusters.
bool PlanRowBlockRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                     const RnnKernelOptions& options, RowBlockPlan* plan);

// Tensor-core block: fp32/fp16/bf16, every cell and activation, 33-128 units,
// compute capability 8.0+ (m16n8k16 and bf16 MMAs; 7.5 has neither), at most
// kMmaBlockMaxWaves x SMs blocks of 8 rows; fp32 needs its weights' low parts in
// shared memory (128 KB at 65-128 units: not on an A10 / L4).
bool PlanMmaBlockRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                     const RnnKernelOptions& options, MmaBlockPlan* plan);

// Persistent: a plan that fits the GPU (one block per SM at most, every block
// co-resident), or false (fp64, units % 4 != 0, too large); GRU
// reset_after=false gets a global mode on every GPU. allow_mma: fp16/bf16 may use the tensor cores (units % 16 == 0; on
// sm_90+ clusters of up to 16 blocks, elsewhere the global barrier).
// max_batch_slices caps the number of batch slices (clusters that must run at
// the same time). Every arch: without clusters (compute capability < 9, the
// portable family) the plan is a global mode, one cooperative grid.
bool PlanPersistentRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                       const RnnKernelOptions& options, bool allow_mma, int max_batch_slices,
                       PersistentPlan* plan);

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_RNN_KERNEL_CHOICE_H_
