// Tensor-core row-group masked recurrence, the variants: LSTM and GRU
// reset_after with any activations, SimpleRNN, GRU reset_after=False. The
// default cells' kernels are in masked_rnn_mma_row_group.cu (a unit of their
// own: both take minutes of ptxas, in parallel).
#include "kernels/rnn/masked_rnn_mma_row_group_kernel.cuh"

namespace tftrt_masking {
namespace rnn_gpu {

int LaunchMmaRowGroupRnnVariant(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                                const MmaRowGroupPlan& plan, const float* xproj,
                                cudaStream_t stream) {
  return LaunchForDType(args.dtype, [&](auto tag) -> int {
    using T = decltype(tag);
    constexpr RowGroupCode kAny = RowGroupCode::kAnyActivation;
    MmaRowGroupVariantParams<T> p;
    FillRowGroupParams<T>(config, args, plan, xproj, &p);
    p.activation = config.activation;
    p.recurrent_activation = config.recurrent_activation;
    switch (config.cell) {
      case RnnCell::kLstm:
        return LaunchForTiles<T, RnnCell::kLstm, kAny>(p, plan, stream);
      case RnnCell::kGru:
        return config.reset_after
                   ? LaunchForTiles<T, RnnCell::kGru, kAny>(p, plan, stream)
                   : LaunchForTiles<T, RnnCell::kGru, RowGroupCode::kResetBefore>(p, plan, stream);
      case RnnCell::kSimpleRnn:
        return LaunchForTiles<T, RnnCell::kSimpleRnn, kAny>(p, plan, stream);
    }
    return cudaErrorInvalidValue;
  });
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
