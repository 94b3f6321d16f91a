// Tensor-core row-group masked recurrence (LSTM, GRU reset_after with the
// default activations) for float16, bfloat16 and float32 tensors, fp32
// accumulation and fp32 state. See the header; the kernel template is in
// masked_rnn_mma_row_group_kernel.cuh, the variants' instantiations in
// masked_rnn_mma_row_group_variants.cu.
#include "kernels/rnn/masked_rnn_mma_row_group_kernel.cuh"

namespace tftrt_masking {
namespace rnn_gpu {

int LaunchMmaRowGroupRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                         const MmaRowGroupPlan& plan, const float* xproj, cudaStream_t stream) {
  if (plan.variant_kernels) {
    return LaunchMmaRowGroupRnnVariant(config, args, plan, xproj, stream);
  }
  return LaunchForDType(args.dtype, [&](auto tag) -> int {
    using T = decltype(tag);
    MmaRowGroupParams<T> p;
    FillRowGroupParams<T>(config, args, plan, xproj, &p);
    switch (config.cell) {
      case RnnCell::kLstm:
        return LaunchForTiles<T, RnnCell::kLstm, RowGroupCode::kDefault>(p, plan, stream);
      case RnnCell::kGru:
        return LaunchForTiles<T, RnnCell::kGru, RowGroupCode::kDefault>(p, plan, stream);
      case RnnCell::kSimpleRnn:
        break;
    }
    return cudaErrorInvalidValue;
  });
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
