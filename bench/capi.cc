// C ABI over the kernel layer for the Python harness (ctypes). Bench-only: the
// TF op and the TensorRT plugin call the C++ API directly.
#include <cstdint>

#include "kernels/common/types.h"
#include "kernels/masking/masking.h"
#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_grad.h"
#include "kernels/rnn/rnn_kernel_choice.h"

using namespace tftrt_masking;

namespace {

MaskedRnnConfig MakeConfig(int32_t cell, int64_t batch, int64_t time, int64_t input_size,
                           int64_t units, int32_t activation, int32_t recurrent_activation,
                           int32_t has_bias, int32_t reset_after, int32_t go_backwards,
                           int32_t return_sequences, int32_t zero_output_for_mask) {
  MaskedRnnConfig config;
  config.cell = static_cast<RnnCell>(cell);
  config.batch = batch;
  config.time = time;
  config.input_size = input_size;
  config.units = units;
  config.activation = static_cast<Activation>(activation);
  config.recurrent_activation = static_cast<Activation>(recurrent_activation);
  config.has_bias = has_bias != 0;
  config.reset_after = reset_after != 0;
  config.go_backwards = go_backwards != 0;
  config.return_sequences = return_sequences != 0;
  config.zero_output_for_mask = zero_output_for_mask != 0;
  return config;
}

// The forward inputs of a call: x, mask, kernel, recurrent_kernel, bias,
// initial_h, initial_c = ptrs[0..6].
MaskedRnnGpuArgs ForwardInputs(int32_t dtype, int32_t mask_dtype, void** ptrs) {
  MaskedRnnGpuArgs args;
  args.dtype = static_cast<DType>(dtype);
  args.mask_dtype = static_cast<MaskDType>(mask_dtype);
  args.x = ptrs[0];
  args.mask = ptrs[1];
  args.kernel = ptrs[2];
  args.recurrent_kernel = ptrs[3];
  args.bias = ptrs[4];
  args.initial_h = ptrs[5];
  args.initial_c = ptrs[6];
  return args;
}

}  // namespace

extern "C" {

int tm_masking(int32_t dtype, const void* x, int64_t rows, int64_t features, float mask_value,
               int32_t mode, void* output, int32_t mask_dtype, void* mask, void* stream) {
  return LaunchMasking(static_cast<DType>(dtype), x, rows, features, mask_value,
                       static_cast<MaskedOutputMode>(mode), output,
                       static_cast<MaskDType>(mask_dtype), mask, static_cast<GpuStream>(stream));
}

void tm_masking_launch_config(int64_t rows, int64_t features, int64_t* out4) {
  const MaskingLaunchConfig c = GetMaskingLaunchConfig(rows, features);
  out4[0] = c.grid;
  out4[1] = c.block;
  out4[2] = c.rows_per_block;
  out4[3] = c.lanes_per_row;
}

// 0 scalar, 1 vector, 2 tile, 3 short-rows kernel (MaskingKernelKind) for rows of
// `features` elements.
int tm_masking_kernel(int64_t features, int64_t element_bytes, int32_t aligned) {
  return static_cast<int>(ChooseMaskingKernel(features, element_bytes, aligned != 0));
}

// Returns the bytes, or -1 with the validation message in *error.
int64_t tm_rnn_workspace_bytes(int32_t cell, int64_t batch, int64_t time, int64_t input_size,
                               int64_t units, int32_t activation, int32_t recurrent_activation,
                               int32_t has_bias, int32_t reset_after, int32_t dtype) {
  const MaskedRnnConfig config = MakeConfig(cell, batch, time, input_size, units, activation,
                                            recurrent_activation, has_bias, reset_after, 0, 0, 0);
  if (ValidateMaskedRnnConfig(config) != nullptr) return -1;
  return static_cast<int64_t>(MaskedRnnGpuWorkspaceBytes(config, static_cast<DType>(dtype)));
}

// The recurrence's options (RnnKernelOptions) as int32 flags, in this order.
enum TmRnnOption : int32_t {
  kTmPerStepOnly = 0,
  kTmNoRowKernels,
  kTmNoMmaRowGroup,
  kTmRowGroupCopy,  // 0 auto, 1 st.async, 2 bulk copies
  kTmRowGroup8Warps,
  kTmNoClusters,
  kTmNoPersistentMma,
  kTmNoOverlap,
  kTmNoPipelinedProjection,
  kTmPortableClass,
  kTmNoMmaBlock,
  kTmMmaBlockFp32,
  kTmGradPerStep,        // the gradient only (LaunchMaskedRnnGradWithOptions)
  kTmGradPersistent,
  kTmGradRecomputeOnly,
  kTmGradSliceRecompute,
  kTmGradFastRecompute,
  // The unit-slice plan forced per pass (0: the planner's): recompute, then
  // backward, each units per block, chunk, k splits, stages, weight padding + 1,
  // task order + 1, weight bytes (UnitSliceForce).
  kTmGradSliceForce,
  kTmOptionCount = kTmGradSliceForce + 14,
};

// kTmOptionCount flags as RnnKernelOptions: one decoding for the forward and the gradient.
RnnKernelOptions OptionsFromFlags(const int32_t* flags) {
  RnnKernelOptions o;
  o.per_step_only = flags[kTmPerStepOnly] != 0;
  o.no_row_kernels = flags[kTmNoRowKernels] != 0;
  o.no_mma_row_group = flags[kTmNoMmaRowGroup] != 0;
  o.row_group_copy = flags[kTmRowGroupCopy] == 1
                         ? rnn_gpu::RowGroupCopy::kStAsync
                         : (flags[kTmRowGroupCopy] == 2 ? rnn_gpu::RowGroupCopy::kBulk
                                                        : rnn_gpu::RowGroupCopy::kAuto);
  o.row_group_8_warps = flags[kTmRowGroup8Warps] != 0;
  o.no_clusters = flags[kTmNoClusters] != 0;
  o.no_persistent_mma = flags[kTmNoPersistentMma] != 0;
  o.no_overlap = flags[kTmNoOverlap] != 0;
  o.no_pipelined_projection = flags[kTmNoPipelinedProjection] != 0;
  o.portable_class = flags[kTmPortableClass] != 0;
  o.no_mma_block = flags[kTmNoMmaBlock] != 0;
  o.mma_block_fp32 = flags[kTmMmaBlockFp32] != 0;
  o.grad_per_step = flags[kTmGradPerStep] != 0;
  o.grad_persistent = flags[kTmGradPersistent] != 0;
  o.grad_recompute_only = flags[kTmGradRecomputeOnly] != 0;
  o.grad_slice_recompute = flags[kTmGradSliceRecompute] != 0;
  o.grad_fast_recompute = flags[kTmGradFastRecompute] != 0;
  for (int pass = 0; pass < 2; ++pass) {
    const int32_t* f = flags + kTmGradSliceForce + 7 * pass;
    rnn_grad_gpu::UnitSliceForce& force = o.grad_slice_force[pass];
    force.units_per_block = f[0];
    force.chunk = f[1];
    force.k_splits = f[2];
    force.stages = f[3];
    force.weight_pad = f[4] - 1;
    force.order = f[5] - 1;
    force.weight_bytes = f[6];
  }
  return o;
}

int32_t tm_rnn_option_count() { return kTmOptionCount; }

// ptrs: x, mask, kernel, recurrent_kernel, bias, initial_h, initial_c, output,
// final_h, final_c, workspace (11 entries, nullptr allowed where the API allows).
// options: kTmOptionCount flags, or nullptr for LaunchMaskedRnn's (the
// environment's knobs).
int tm_rnn(int32_t cell, int64_t batch, int64_t time, int64_t input_size, int64_t units,
           int32_t activation, int32_t recurrent_activation, int32_t has_bias,
           int32_t reset_after, int32_t go_backwards, int32_t return_sequences,
           int32_t zero_output_for_mask, int32_t dtype, int32_t mask_dtype, void** ptrs,
           int64_t workspace_bytes, void* stream, const int32_t* options) {
  const MaskedRnnConfig config =
      MakeConfig(cell, batch, time, input_size, units, activation, recurrent_activation, has_bias,
                 reset_after, go_backwards, return_sequences, zero_output_for_mask);
  MaskedRnnGpuArgs args = ForwardInputs(dtype, mask_dtype, ptrs);
  args.output = ptrs[7];
  args.final_h = ptrs[8];
  args.final_c = ptrs[9];
  if (options == nullptr) {
    return LaunchMaskedRnn(config, args, ptrs[10], static_cast<size_t>(workspace_bytes),
                           static_cast<GpuStream>(stream));
  }
  return LaunchMaskedRnnWithOptions(config, args, OptionsFromFlags(options), ptrs[10],
                                    static_cast<size_t>(workspace_bytes),
                                    static_cast<GpuStream>(stream));
}

// The gradient (masked_rnn_grad.h): workspace bytes, or -1 for an invalid config.
int64_t tm_rnn_grad_workspace_bytes(int32_t cell, int64_t batch, int64_t time, int64_t input_size,
                                    int64_t units, int32_t activation,
                                    int32_t recurrent_activation, int32_t has_bias,
                                    int32_t reset_after, int32_t dtype) {
  const MaskedRnnConfig config = MakeConfig(cell, batch, time, input_size, units, activation,
                                            recurrent_activation, has_bias, reset_after, 0, 0, 0);
  if (ValidateMaskedRnnConfig(config) != nullptr) return -1;
  return static_cast<int64_t>(MaskedRnnGpuGradWorkspaceBytes(config, static_cast<DType>(dtype)));
}

// ptrs: x, mask, kernel, recurrent_kernel, bias, initial_h, initial_c, d_output,
// d_final_h, d_final_c, d_x, d_kernel, d_recurrent_kernel, d_bias, d_initial_h,
// d_initial_c, workspace (17 entries). options: as tm_rnn's (the kTmGrad* flags
// choose the gradient's path), or nullptr for the environment's knobs.
int tm_rnn_grad(int32_t cell, int64_t batch, int64_t time, int64_t input_size, int64_t units,
                int32_t activation, int32_t recurrent_activation, int32_t has_bias,
                int32_t reset_after, int32_t go_backwards, int32_t return_sequences,
                int32_t zero_output_for_mask, int32_t dtype, int32_t mask_dtype, void** ptrs,
                int64_t workspace_bytes, void* stream, const int32_t* options) {
  const MaskedRnnConfig config =
      MakeConfig(cell, batch, time, input_size, units, activation, recurrent_activation, has_bias,
                 reset_after, go_backwards, return_sequences, zero_output_for_mask);
  MaskedRnnGpuGradArgs args;
  args.forward = ForwardInputs(dtype, mask_dtype, ptrs);
  args.d_output = ptrs[7];
  args.d_final_h = ptrs[8];
  args.d_final_c = ptrs[9];
  args.d_x = ptrs[10];
  args.d_kernel = ptrs[11];
  args.d_recurrent_kernel = ptrs[12];
  args.d_bias = ptrs[13];
  args.d_initial_h = ptrs[14];
  args.d_initial_c = ptrs[15];
  if (options == nullptr) {
    return LaunchMaskedRnnGrad(config, args, ptrs[16], static_cast<size_t>(workspace_bytes),
                               static_cast<GpuStream>(stream));
  }
  return LaunchMaskedRnnGradWithOptions(config, args, OptionsFromFlags(options), ptrs[16],
                                        static_cast<size_t>(workspace_bytes),
                                        static_cast<GpuStream>(stream));
}

// The gradient's unit-slice plan (rnn_grad_plans.h) for a GPU of `sm_count` SMs
// and `shared_optin` bytes of shared memory per block, a model of `model_bytes`
// element bytes, with options' forced parts: per pass ([0] recompute, [1]
// backward) 13 entries of `out` (units per block, unit slices, batch per block,
// batch slices, rows per task, row groups, k splits, chunk, stages, weight
// padding, task order, shared bytes, weight bytes). 1 if both passes have a
// plan, else 0. What the launcher plans before it checks the compiled kernels'
// occupancy.
int32_t tm_grad_slice_plan(int64_t batch, int64_t units, int32_t gates, int32_t sm_count,
                           int64_t shared_optin, int32_t model_bytes, const int32_t* options,
                           int32_t* out) {
  const RnnKernelOptions o = OptionsFromFlags(options);
  rnn_grad_gpu::UnitSlicePlan plan;
  if (!rnn_grad_gpu::PlanUnitSlices(batch, units, gates, sm_count,
                                    static_cast<size_t>(shared_optin), &plan,
                                    o.grad_slice_force, model_bytes)) {
    return 0;
  }
  for (int pass = 0; pass < 2; ++pass) {
    const rnn_grad_gpu::UnitSlicePassPlan& p = plan.pass[pass];
    const int32_t fields[13] = {p.units_per_block, p.unit_slices, p.batch_per_block,
                                p.batch_slices, p.rows_per_thread, p.row_groups,
                                p.k_splits, p.chunk, p.stages, p.weight_pad,
                                static_cast<int32_t>(p.order),
                                static_cast<int32_t>(p.shared_bytes), p.weight_bytes};
    for (int i = 0; i < 13; ++i) out[13 * pass + i] = fields[i];
  }
  return 1;
}

const char* tm_error_string(int error) { return GpuErrorString(error); }

}  // extern "C"
