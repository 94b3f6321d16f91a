// TensorFlow kernels of MaskedLSTM, MaskedGRU and MaskedSimpleRNN: adapters
// that validate shapes, allocate outputs and call kernels/rnn (CPU: the
// header template over TF's thread pool; GPU: LaunchMaskedRnn).
#include <string>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_cpu.h"
#include "kernels/rnn/masked_rnn_shapes.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/types.h"
#include "tensorflow/core/util/work_sharder.h"
#include "tf_ops/kernels/gpu_stream.h"

namespace tftrt_masking {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::errors::InvalidArgument;

// Input and output positions shared by the three ops.
enum Input { kX = 0, kMask, kKernel, kRecurrentKernel, kBias, kInitialH, kInitialC };
enum Output { kOutput = 0, kFinalH, kFinalC };

absl::Status ParseActivationAttr(OpKernelConstruction* context, const char* attr,
                                 Activation* activation) {
  std::string name;
  TF_RETURN_IF_ERROR(context->GetAttr(attr, &name));
  if (!ParseActivation(name.c_str(), activation)) {
    return InvalidArgument(context->def().op(), " (", context->def().name(), "): unknown ",
                           attr, " '", name,
                           "'; supported: tanh, sigmoid, relu, linear, hard_sigmoid, "
                           "hard_sigmoid_keras2");
  }
  return absl::OkStatus();
}

// Attributes, validation and output allocation shared by the CPU and GPU
// kernels of one op.
class MaskedRnnOpBase : public OpKernel {
 public:
  MaskedRnnOpBase(OpKernelConstruction* context, RnnCell cell) : OpKernel(context) {
    config_.cell = cell;
    OP_REQUIRES_OK(context, ParseActivationAttr(context, "activation", &config_.activation));
    if (cell != RnnCell::kSimpleRnn) {
      OP_REQUIRES_OK(context, ParseActivationAttr(context, "recurrent_activation",
                                                  &config_.recurrent_activation));
    }
    if (cell == RnnCell::kGru) {
      OP_REQUIRES_OK(context, context->GetAttr("reset_after", &config_.reset_after));
    } else {
      config_.reset_after = false;
    }
    OP_REQUIRES_OK(context, context->GetAttr("use_bias", &config_.has_bias));
    OP_REQUIRES_OK(context, context->GetAttr("go_backwards", &config_.go_backwards));
    OP_REQUIRES_OK(context, context->GetAttr("return_sequences", &config_.return_sequences));
    OP_REQUIRES_OK(context,
                   context->GetAttr("zero_output_for_mask", &config_.zero_output_for_mask));
  }

 protected:
  bool is_lstm() const { return config_.cell == RnnCell::kLstm; }

  // Checks every input against x and recurrent_kernel, fills *config and
  // allocates the outputs.
  absl::Status Prepare(OpKernelContext* context, MaskedRnnConfig* config, Tensor** output,
                       Tensor** final_h, Tensor** final_c) {
    const Tensor& x = context->input(kX);
    const Tensor& mask = context->input(kMask);
    const Tensor& kernel = context->input(kKernel);
    const Tensor& recurrent_kernel = context->input(kRecurrentKernel);
    const Tensor& bias = context->input(kBias);
    const int gates = GateCount(config_.cell);
    auto error = [&](auto&&... message) {
      return InvalidArgument(type_string(), " (", name(), "): ", message...);
    };
    if (x.dims() != 3) {
      return error("x must have rank 3 [batch, time, features], got shape ",
                   x.shape().DebugString());
    }
    const int64_t batch = x.dim_size(0), steps = x.dim_size(1), features = x.dim_size(2);
    // units comes from recurrent_kernel; every other input is checked against
    // MaskedRnnExpectedShapes(), as the TF-TRT converter and the plugin do.
    if (recurrent_kernel.dims() != 2 || recurrent_kernel.dim_size(0) <= 0 ||
        recurrent_kernel.dim_size(1) != gates * recurrent_kernel.dim_size(0)) {
      return error("recurrent_kernel must have shape [units, ", gates,
                   "*units] with units > 0, got ", recurrent_kernel.shape().DebugString());
    }
    const int64_t units = recurrent_kernel.dim_size(0);
    *config = config_;
    config->batch = batch;
    config->time = steps;
    config->input_size = features;
    config->units = units;
    const MaskedRnnShapes expected = MaskedRnnExpectedShapes(*config);
    auto matches = [](const Tensor& tensor, const ExpectedShape& shape) {
      int64_t dims[3] = {0, 0, 0};
      if (tensor.dims() > 3) return false;
      for (int i = 0; i < tensor.dims(); ++i) dims[i] = tensor.dim_size(i);
      return shape.Matches(dims, tensor.dims());
    };
    if (!matches(mask, expected.mask)) {
      return error("mask must have shape [batch, time] = [", batch, ", ", steps,
                   "] (x is ", x.shape().DebugString(), "), got ", mask.shape().DebugString());
    }
    const int64_t gate_width = gates * units;
    if (!matches(kernel, expected.kernel)) {
      return error("kernel must have shape [features, ", gates, "*units] = [", features, ", ",
                   gate_width, "] (x is ", x.shape().DebugString(), ", recurrent_kernel is ",
                   recurrent_kernel.shape().DebugString(), "), got ",
                   kernel.shape().DebugString());
    }
    if (!matches(bias, expected.bias)) {
      return error("bias must have shape ", expected.bias.ToString(),
                   config_.has_bias ? (config_.reset_after ? " ([input bias; recurrent bias], "
                                                             "reset_after=true)"
                                                           : "")
                                    : " (use_bias=false)",
                   " for units=", units, ", got ", bias.shape().DebugString());
    }
    const int num_states = is_lstm() ? 2 : 1;
    for (int s = 0; s < num_states; ++s) {
      const Tensor& state = context->input(kInitialH + s);
      if (!matches(state, s == 0 ? expected.initial_h : expected.initial_c)) {
        return error(s == 0 ? "initial_h" : "initial_c", " must have shape [batch, units] = [",
                     batch, ", ", units, "], got ", state.shape().DebugString());
      }
    }
    if (const char* message = ValidateMaskedRnnConfig(*config)) return error(message);

    const TensorShape output_shape = config_.return_sequences
                                         ? TensorShape({batch, steps, units})
                                         : TensorShape({batch, units});
    TF_RETURN_IF_ERROR(context->allocate_output(kOutput, output_shape, output));
    TF_RETURN_IF_ERROR(context->allocate_output(kFinalH, TensorShape({batch, units}), final_h));
    if (is_lstm()) {
      TF_RETURN_IF_ERROR(
          context->allocate_output(kFinalC, TensorShape({batch, units}), final_c));
    }
    return absl::OkStatus();
  }

  MaskedRnnConfig config_;
};

// Pointers of one call in the kernel layer's form.
template <typename T>
MaskedRnnArgs<T, bool> ArgsOf(OpKernelContext* context, const MaskedRnnConfig& config,
                              Tensor* output, Tensor* final_h, Tensor* final_c) {
  MaskedRnnArgs<T, bool> args;
  args.x = context->input(kX).flat<T>().data();
  args.mask = context->input(kMask).flat<bool>().data();
  args.kernel = context->input(kKernel).flat<T>().data();
  args.recurrent_kernel = context->input(kRecurrentKernel).flat<T>().data();
  args.bias = config.has_bias ? context->input(kBias).flat<T>().data() : nullptr;
  args.initial_h = context->input(kInitialH).flat<T>().data();
  args.output = output->flat<T>().data();
  args.final_h = final_h->flat<T>().data();
  if (config.cell == RnnCell::kLstm) {
    args.initial_c = context->input(kInitialC).flat<T>().data();
    args.final_c = final_c->flat<T>().data();
  }
  return args;
}

template <typename T>
class MaskedRnnCpuOp : public MaskedRnnOpBase {
 public:
  MaskedRnnCpuOp(OpKernelConstruction* context, RnnCell cell) : MaskedRnnOpBase(context, cell) {}

  void Compute(OpKernelContext* context) override {
    MaskedRnnConfig config;
    Tensor *output = nullptr, *final_h = nullptr, *final_c = nullptr;
    OP_REQUIRES_OK(context, Prepare(context, &config, &output, &final_h, &final_c));
    if (config.batch == 0) return;
    const MaskedRnnArgs<T, bool> args = ArgsOf<T>(context, config, output, final_h, final_c);
    const auto weights = PrepareCpuRnnWeights(config, args);
    // Rows are independent: shard them over TF's intra-op thread pool.
    const auto* workers = context->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(workers->num_threads, workers->workers, config.batch,
                      MaskedRnnCpuCostPerRow(config), [&](int64_t begin, int64_t end) {
                        MaskedRnnCpuRows(config, weights, args, begin, end);
                      });
  }
};

template <typename T>
class MaskedLstmCpuOp : public MaskedRnnCpuOp<T> {
 public:
  explicit MaskedLstmCpuOp(OpKernelConstruction* c) : MaskedRnnCpuOp<T>(c, RnnCell::kLstm) {}
};
template <typename T>
class MaskedGruCpuOp : public MaskedRnnCpuOp<T> {
 public:
  explicit MaskedGruCpuOp(OpKernelConstruction* c) : MaskedRnnCpuOp<T>(c, RnnCell::kGru) {}
};
template <typename T>
class MaskedSimpleRnnCpuOp : public MaskedRnnCpuOp<T> {
 public:
  explicit MaskedSimpleRnnCpuOp(OpKernelConstruction* c)
      : MaskedRnnCpuOp<T>(c, RnnCell::kSimpleRnn) {}
};

#define REGISTER_MASKED_RNN_CPU(T)                                                      \
  REGISTER_KERNEL_BUILDER(                                                              \
      Name("MaskedLSTM").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"),         \
      MaskedLstmCpuOp<T>);                                                              \
  REGISTER_KERNEL_BUILDER(                                                              \
      Name("MaskedGRU").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"),          \
      MaskedGruCpuOp<T>);                                                               \
  REGISTER_KERNEL_BUILDER(                                                              \
      Name("MaskedSimpleRNN").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"),    \
      MaskedSimpleRnnCpuOp<T>);
TFTRT_MASKING_CALL_FLOAT_TYPES(REGISTER_MASKED_RNN_CPU);
#undef REGISTER_MASKED_RNN_CPU

#ifdef TFTRT_MASKING_WITH_CUDA

template <typename T>
class MaskedRnnGpuOp : public MaskedRnnOpBase {
 public:
  MaskedRnnGpuOp(OpKernelConstruction* context, RnnCell cell) : MaskedRnnOpBase(context, cell) {}

  void Compute(OpKernelContext* context) override {
    MaskedRnnConfig config;
    Tensor *output = nullptr, *final_h = nullptr, *final_c = nullptr;
    OP_REQUIRES_OK(context, Prepare(context, &config, &output, &final_h, &final_c));
    if (config.batch == 0) return;
    const MaskedRnnArgs<T, bool> typed = ArgsOf<T>(context, config, output, final_h, final_c);
    MaskedRnnGpuArgs args;
    args.dtype = KernelDType<T>();
    args.mask_dtype = MaskDType::kBool;
    args.x = typed.x;
    args.mask = typed.mask;
    args.kernel = typed.kernel;
    args.recurrent_kernel = typed.recurrent_kernel;
    args.bias = typed.bias;
    args.initial_h = typed.initial_h;
    args.initial_c = typed.initial_c;
    args.output = typed.output;
    args.final_h = typed.final_h;
    args.final_c = typed.final_c;
    const size_t workspace_bytes = MaskedRnnGpuWorkspaceBytes(config, args.dtype);
    Tensor workspace;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                tensorflow::DT_INT8,
                                TensorShape({static_cast<int64_t>(workspace_bytes)}), &workspace));
    const int error = LaunchMaskedRnn(config, args, workspace.flat<int8_t>().data(),
                                      workspace_bytes, GetGpuStream(context));
    OP_REQUIRES(context, error == 0,
                tensorflow::errors::Internal(type_string(), " (", name(),
                                             ") CUDA launch failed: ", GpuErrorString(error)));
  }
};

template <typename T>
class MaskedLstmGpuOp : public MaskedRnnGpuOp<T> {
 public:
  explicit MaskedLstmGpuOp(OpKernelConstruction* c) : MaskedRnnGpuOp<T>(c, RnnCell::kLstm) {}
};
template <typename T>
class MaskedGruGpuOp : public MaskedRnnGpuOp<T> {
 public:
  explicit MaskedGruGpuOp(OpKernelConstruction* c) : MaskedRnnGpuOp<T>(c, RnnCell::kGru) {}
};
template <typename T>
class MaskedSimpleRnnGpuOp : public MaskedRnnGpuOp<T> {
 public:
  explicit MaskedSimpleRnnGpuOp(OpKernelConstruction* c)
      : MaskedRnnGpuOp<T>(c, RnnCell::kSimpleRnn) {}
};

#define REGISTER_MASKED_RNN_GPU(T)                                                      \
  REGISTER_KERNEL_BUILDER(                                                              \
      Name("MaskedLSTM").Device(tensorflow::DEVICE_GPU).TypeConstraint<T>("T"),         \
      MaskedLstmGpuOp<T>);                                                              \
  REGISTER_KERNEL_BUILDER(                                                              \
      Name("MaskedGRU").Device(tensorflow::DEVICE_GPU).TypeConstraint<T>("T"),          \
      MaskedGruGpuOp<T>);                                                               \
  REGISTER_KERNEL_BUILDER(                                                              \
      Name("MaskedSimpleRNN").Device(tensorflow::DEVICE_GPU).TypeConstraint<T>("T"),    \
      MaskedSimpleRnnGpuOp<T>);
TFTRT_MASKING_CALL_FLOAT_TYPES(REGISTER_MASKED_RNN_GPU);
#undef REGISTER_MASKED_RNN_GPU

#endif  // TFTRT_MASKING_WITH_CUDA

}  // namespace
}  // namespace tftrt_masking
