// Attributes and input validation shared by the TF kernels of the masked
// recurrences and of their gradients (CPU and GPU).
#ifndef TFTRT_MASKING_TF_OPS_KERNELS_MASKED_RNN_OP_BASE_H_
#define TFTRT_MASKING_TF_OPS_KERNELS_MASKED_RNN_OP_BASE_H_

#include <string>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_shapes.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/types.h"

namespace tftrt_masking {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::errors::InvalidArgument;

// Input and output positions shared by the three forward ops (the gradient
// ops take the same inputs first).
enum Input { kX = 0, kMask, kKernel, kRecurrentKernel, kBias, kInitialH, kInitialC };
enum Output { kOutput = 0, kFinalH, kFinalC };

inline absl::Status ParseActivationAttr(OpKernelConstruction* context, const char* attr,
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

  // Checks the forward inputs (x .. initial_c) against x and
  // recurrent_kernel and fills *config.
  absl::Status ValidateInputs(OpKernelContext* context, MaskedRnnConfig* config) {
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
    return absl::OkStatus();
  }

  // The forward op: ValidateInputs, then allocates the outputs.
  absl::Status Prepare(OpKernelContext* context, MaskedRnnConfig* config, Tensor** output,
                       Tensor** final_h, Tensor** final_c) {
    TF_RETURN_IF_ERROR(ValidateInputs(context, config));
    const int64_t batch = config->batch, steps = config->time, units = config->units;
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

// Pointers of one call in the kernel layer's form (the outputs may be nullptr:
// the gradient ops have none).
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
  auto data = [](Tensor* tensor) {
    return tensor == nullptr ? nullptr : tensor->flat<T>().data();
  };
  args.output = data(output);
  args.final_h = data(final_h);
  if (config.cell == RnnCell::kLstm) {
    args.initial_c = context->input(kInitialC).flat<T>().data();
    args.final_c = data(final_c);
  }
  return args;
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TF_OPS_KERNELS_MASKED_RNN_OP_BASE_H_
