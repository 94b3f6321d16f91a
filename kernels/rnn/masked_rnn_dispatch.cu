// GPU masked recurrences: LaunchMaskedRnn, its workspace, and the launch of
// the kernels ChooseRnnKernel (rnn_kernel_choice.h) picked:
// 1. the input projection for every timestep as one GEMM
//    (masked_rnn_projection.cuh): xproj[B*T, G*U] = x @ kernel + input bias,
//    in the accumulation type;
// 2. the recurrence: the candidates in order (masked_rnn_mma_row_group.cuh,
//    masked_rnn_row_block.cuh, masked_rnn_mma_block.cuh,
//    masked_rnn_persistent.cuh), the per-step path
//    (masked_rnn_per_step.cuh) last.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_mma_block.cuh"
#include "kernels/rnn/masked_rnn_mma_row_group.cuh"
#include "kernels/rnn/masked_rnn_per_step.cuh"
#include "kernels/rnn/masked_rnn_persistent.cuh"
#include "kernels/rnn/masked_rnn_projection.cuh"
#include "kernels/rnn/masked_rnn_row_block.cuh"
#include "kernels/rnn/masked_rnn_workspace.h"
#include "kernels/rnn/rnn_kernel_choice.h"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

// The recurrence on the chosen family; cudaErrorCooperativeLaunchTooLarge
// (nothing launched) when its clusters do not all fit the device at once.
// *ffma_tried: a persistent tensor-core candidate was re-planned into the FFMA
// mode (so the FFMA candidate after it has had its turn).
int LaunchCandidate(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                    const GpuProps& props, const RnnKernelOptions& options,
                    const RnnKernelCandidate& candidate, const float* xproj, char* workspace,
                    cudaStream_t stream, bool* ffma_tried) {
  const WorkspaceLayout layout = Layout(config, args.dtype);
  switch (candidate.family) {
    case RnnFamily::kMmaRowGroup:
      return LaunchMmaRowGroupRnn(config, args, candidate.mma_row_group, xproj, stream);
    case RnnFamily::kRowBlock:
      return LaunchRowBlockRnn(config, args, candidate.row_block, xproj, stream);
    case RnnFamily::kMmaBlock:
      return LaunchMmaBlockRnn(config, args, candidate.mma_block, xproj, stream);
    case RnnFamily::kPersistent: {
      // A plan whose clusters do not all fit at once is re-planned with as
      // many batch slices as fit (at most 3 plans).
      PersistentPlan plan = candidate.persistent;
      PersistentBuffers buffers;
      buffers.xproj = xproj;
      buffers.hbuf = reinterpret_cast<float*>(workspace + layout.h);
      buffers.scratch = reinterpret_cast<float*>(workspace + layout.scratch);
      buffers.counters = reinterpret_cast<unsigned*>(workspace + layout.counters);
      for (int attempt = 0; attempt < 3; ++attempt) {
        int active_clusters = 0;
        const int status =
            LaunchPersistentRnn(config, args, plan, buffers, stream, &active_clusters);
        if (status != cudaErrorCooperativeLaunchTooLarge) return status;
        cudaGetLastError();  // clear it: a smaller plan, the next candidate or the per-step path
        if (active_clusters <= 0 || active_clusters >= plan.batch_slices) break;
        if (!PlanPersistentRnn(config, args.dtype, props, options,
                               candidate.persistent_allow_mma, active_clusters, &plan)) {
          break;
        }
        if (!plan.mma) *ffma_tried = true;
      }
      return cudaErrorCooperativeLaunchTooLarge;
    }
    case RnnFamily::kPerStep:
      break;
  }
  return cudaErrorInvalidValue;
}

// The GPU's properties that kernel choice reads.
cudaError_t CurrentGpuProps(GpuProps* props) {
  int device = 0, value = 0;
  cudaError_t error = cudaGetDevice(&device);
  if (error != cudaSuccess) return error;
  const struct {
    cudaDeviceAttr attribute;
    int* out;
  } queries[] = {
      {cudaDevAttrComputeCapabilityMajor, &props->cc_major},
      {cudaDevAttrComputeCapabilityMinor, &props->cc_minor},
      {cudaDevAttrMultiProcessorCount, &props->sm_count},
  };
  for (const auto& query : queries) {
    if ((error = cudaDeviceGetAttribute(query.out, query.attribute, device)) != cudaSuccess) {
      return error;
    }
  }
  if ((error = cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, device)) !=
      cudaSuccess) {
    return error;
  }
  props->shared_per_block_optin = static_cast<size_t>(value);
  if ((error = cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerMultiprocessor,
                                      device)) != cudaSuccess) {
    return error;
  }
  props->shared_per_sm = static_cast<size_t>(value);
  return cudaSuccess;
}

// xproj for every step: x @ kernel + input bias, in the accumulation type.
template <typename T, typename Acc>
cudaError_t LaunchProjectionOf(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                               int num_sms, const ProjectionChoice& choice, char* workspace,
                               cudaStream_t stream) {
  const int64_t n = GateCount(config.cell) * config.units;
  const T* bias = config.has_bias ? static_cast<const T*>(args.bias) : nullptr;
  return LaunchProjection(static_cast<const T*>(args.x), static_cast<const T*>(args.kernel), bias,
                          config.batch * config.time, static_cast<int>(n),
                          static_cast<int>(config.input_size),
                          reinterpret_cast<Acc*>(workspace + Layout(config, args.dtype).xproj),
                          num_sms, choice, stream);
}

int LaunchRecurrence(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                     const RnnKernelOptions& options, char* workspace, cudaStream_t stream) {
  const WorkspaceLayout layout = Layout(config, args.dtype);
  cudaError_t error = cudaSuccess;

  GpuProps props;
  if ((error = CurrentGpuProps(&props)) != cudaSuccess) return error;
  RnnArgsAlignment alignment;
  alignment.mask_4_bytes = reinterpret_cast<uintptr_t>(args.mask) % 4 == 0;
  alignment.x_kernel_16_bytes = reinterpret_cast<uintptr_t>(args.x) % 16 == 0 &&
                                reinterpret_cast<uintptr_t>(args.kernel) % 16 == 0;
  const RnnKernelChoice choice = ChooseRnnKernel(config, args.dtype, props, options, alignment);
  if (config.batch * config.time > 0) {
    switch (args.dtype) {
      case DType::kFloat32:
        error = LaunchProjectionOf<float, float>(config, args, props.sm_count, choice.projection,
                                                 workspace, stream);
        break;
      case DType::kFloat16:
        error = LaunchProjectionOf<__half, float>(config, args, props.sm_count, choice.projection,
                                                  workspace, stream);
        break;
      case DType::kBFloat16:
        error = LaunchProjectionOf<__nv_bfloat16, float>(config, args, props.sm_count,
                                                         choice.projection, workspace, stream);
        break;
      case DType::kFloat64:
        error = LaunchProjectionOf<double, double>(config, args, props.sm_count,
                                                   choice.projection, workspace, stream);
        break;
    }
    if (error != cudaSuccess) return error;
  }
  // The candidates in order; a cluster family whose clusters do not all fit
  // at once answers cudaErrorCooperativeLaunchTooLarge and the next one runs.
  // The last candidate is the per-step path below.
  bool ffma_tried = false;
  for (int i = 0; i + 1 < choice.candidate_count; ++i) {
    const RnnKernelCandidate& candidate = choice.candidates[i];
    if (ffma_tried && candidate.family == RnnFamily::kPersistent && !candidate.persistent.mma) {
      continue;
    }
    // A re-plan sees the properties the choice saw (the portable class's, if asked).
    const int status = LaunchCandidate(config, args,
                                       options.portable_class ? PortableClassProps(props) : props,
                                       options, candidate,
                                       reinterpret_cast<const float*>(workspace + layout.xproj),
                                       workspace, stream, &ffma_tried);
    if (status != cudaErrorCooperativeLaunchTooLarge) return status;
    cudaGetLastError();
  }
  return LaunchPerStepRnn(config, args, workspace, stream);
}

}  // namespace
}  // namespace rnn_gpu

size_t MaskedRnnGpuWorkspaceBytes(const MaskedRnnConfig& config, DType dtype) {
  return rnn_gpu::Layout(config, dtype).total;
}

int LaunchMaskedRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                    void* workspace, size_t workspace_bytes, GpuStream stream) {
  // The debug knobs, read once per call (bench/, the sanitizer driver and the
  // plugin harness set them for A/B runs).
  return LaunchMaskedRnnWithOptions(config, args, RnnKernelOptionsFromEnvironment(), workspace,
                                    workspace_bytes, stream);
}

int LaunchMaskedRnnWithOptions(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                               const RnnKernelOptions& options, void* workspace,
                               size_t workspace_bytes, GpuStream stream) {
  if (ValidateMaskedRnnConfig(config) != nullptr) return cudaErrorInvalidValue;
  // Steps and rows are int on the device side of the persistent kernel and
  // the step index of the simple path.
  if (config.time > (int64_t{1} << 31) - 1) return cudaErrorInvalidValue;
  if (config.batch == 0) return cudaSuccess;
  if (workspace == nullptr || workspace_bytes < MaskedRnnGpuWorkspaceBytes(config, args.dtype)) {
    return cudaErrorInvalidValue;
  }
  if (config.has_bias && args.bias == nullptr) return cudaErrorInvalidValue;
  return rnn_gpu::LaunchRecurrence(config, args, options, static_cast<char*>(workspace),
                                   reinterpret_cast<cudaStream_t>(stream));
}

}  // namespace tftrt_masking
