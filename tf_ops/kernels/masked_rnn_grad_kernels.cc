// TensorFlow kernels of MaskedLSTMGrad, MaskedGRUGrad and MaskedSimpleRNNGrad:
// adapters that validate shapes, allocate the gradients and call kernels/rnn
// (CPU: fixed blocks of rows over TF's thread pool, partial weight gradients
// summed in block order, so the result does not depend on the thread count).
// A GPU kernel derives from MaskedRnnGradOpBase the same way and calls
// LaunchMaskedRnnGrad with GradArgsOf's pointers.
#include <vector>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_grad.h"
#include "kernels/rnn/masked_rnn_grad_cpu.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"
#include "tf_ops/kernels/gpu_stream.h"
#include "tf_ops/kernels/masked_rnn_op_base.h"

namespace tftrt_masking {
namespace {

// The gradient ops' outputs: the forward inputs' gradients (mask has none).
enum GradOutput { kDX = 0, kDKernel, kDRecurrentKernel, kDBias, kDInitialH, kDInitialC };

// Validation and allocation shared by the CPU and GPU gradient kernels.
// Inputs: the forward op's, then d_output, d_final_h[, d_final_c].
class MaskedRnnGradOpBase : public MaskedRnnOpBase {
 public:
  using MaskedRnnOpBase::MaskedRnnOpBase;

 protected:
  int d_output_input() const { return is_lstm() ? kInitialC + 1 : kInitialH + 1; }

  absl::Status PrepareGrad(OpKernelContext* context, MaskedRnnConfig* config,
                           Tensor* outputs[6]) {
    TF_RETURN_IF_ERROR(ValidateInputs(context, config));
    const TensorShape state_shape({config->batch, config->units});
    const TensorShape output_shape =
        config->return_sequences ? TensorShape({config->batch, config->time, config->units})
                                 : state_shape;
    const int num_states = is_lstm() ? 2 : 1;
    for (int i = 0; i <= num_states; ++i) {
      const Tensor& incoming = context->input(d_output_input() + i);
      const TensorShape& expected = i == 0 ? output_shape : state_shape;
      if (incoming.shape() != expected) {
        static const char* const kNames[] = {"d_output", "d_final_h", "d_final_c"};
        return InvalidArgument(type_string(), " (", name(), "): ", kNames[i], " must have shape ",
                               expected.DebugString(), ", got ", incoming.shape().DebugString());
      }
    }
    const int forward_inputs = is_lstm() ? kInitialC + 1 : kInitialH + 1;
    // Each gradient has its input's shape (GradOutput order; mask has none).
    const int source_input[] = {kX, kKernel, kRecurrentKernel, kBias, kInitialH, kInitialC};
    for (int out = 0; out < forward_inputs - 1; ++out) {
      TF_RETURN_IF_ERROR(context->allocate_output(out, context->input(source_input[out]).shape(),
                                                  &outputs[out]));
    }
    return absl::OkStatus();
  }

  // Pointers of one call in the kernel layer's form.
  template <typename T>
  MaskedRnnGradArgs<T, bool> GradArgsOf(OpKernelContext* context, const MaskedRnnConfig& config,
                                        Tensor* outputs[6]) const {
    MaskedRnnGradArgs<T, bool> args;
    args.forward = ArgsOf<T>(context, config, nullptr, nullptr, nullptr);
    const int d_output = d_output_input();
    args.d_output = context->input(d_output).flat<T>().data();
    args.d_final_h = context->input(d_output + 1).flat<T>().data();
    args.d_x = outputs[kDX]->flat<T>().data();
    args.d_kernel = outputs[kDKernel]->flat<T>().data();
    args.d_recurrent_kernel = outputs[kDRecurrentKernel]->flat<T>().data();
    args.d_bias = config.has_bias ? outputs[kDBias]->flat<T>().data() : nullptr;
    args.d_initial_h = outputs[kDInitialH]->flat<T>().data();
    if (is_lstm()) {
      args.d_final_c = context->input(d_output + 2).flat<T>().data();
      args.d_initial_c = outputs[kDInitialC]->flat<T>().data();
    }
    return args;
  }
};

template <typename T, RnnCell kCell>
class MaskedRnnGradCpuOp : public MaskedRnnGradOpBase {
 public:
  explicit MaskedRnnGradCpuOp(OpKernelConstruction* context)
      : MaskedRnnGradOpBase(context, kCell) {}

  void Compute(OpKernelContext* context) override {
    MaskedRnnConfig config;
    Tensor* outputs[6] = {};
    OP_REQUIRES_OK(context, PrepareGrad(context, &config, outputs));
    const MaskedRnnGradArgs<T, bool> args = GradArgsOf<T>(context, config, outputs);
    using Acc = CpuAccType<T>;
    const int64_t blocks = MaskedRnnGradCpuBlockCount(config);
    const int64_t partial_size = MaskedRnnGradCpuPartialSize(config);
    std::vector<Acc> partials(blocks * partial_size);
    if (blocks > 0) {
      const auto weights = PrepareCpuGradWeights(config, args);
      // Blocks, not rows, are sharded: the summation order stays fixed.
      const auto* workers = context->device()->tensorflow_cpu_worker_threads();
      tensorflow::Shard(workers->num_threads, workers->workers, blocks,
                        MaskedRnnGradCpuCostPerBlock(config), [&](int64_t begin, int64_t end) {
                          for (int64_t b = begin; b < end; ++b) {
                            MaskedRnnGradCpuBlock(config, weights, args, b,
                                                  partials.data() + b * partial_size);
                          }
                        });
    }
    ReduceMaskedRnnGradCpuPartials(config, partials.data(), blocks, args);
  }
};

template <typename T>
using MaskedLstmGradCpuOp = MaskedRnnGradCpuOp<T, RnnCell::kLstm>;
template <typename T>
using MaskedGruGradCpuOp = MaskedRnnGradCpuOp<T, RnnCell::kGru>;
template <typename T>
using MaskedSimpleRnnGradCpuOp = MaskedRnnGradCpuOp<T, RnnCell::kSimpleRnn>;

#define REGISTER_MASKED_RNN_GRAD_CPU(T)                                                  \
  REGISTER_KERNEL_BUILDER(                                                               \
      Name("MaskedLSTMGrad").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"),      \
      MaskedLstmGradCpuOp<T>);                                                           \
  REGISTER_KERNEL_BUILDER(                                                               \
      Name("MaskedGRUGrad").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"),       \
      MaskedGruGradCpuOp<T>);                                                            \
  REGISTER_KERNEL_BUILDER(                                                               \
      Name("MaskedSimpleRNNGrad").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"), \
      MaskedSimpleRnnGradCpuOp<T>);
TFTRT_MASKING_CALL_FLOAT_TYPES(REGISTER_MASKED_RNN_GRAD_CPU);
#undef REGISTER_MASKED_RNN_GRAD_CPU

}  // namespace
}  // namespace tftrt_masking
