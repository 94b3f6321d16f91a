// TensorFlow kernels of MaskedLSTM, MaskedGRU and MaskedSimpleRNN: adapters
// that validate shapes, allocate outputs and call kernels/rnn (CPU: the
// header template over TF's thread pool; GPU: LaunchMaskedRnn).
#include <string>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_cpu.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/types.h"
#include "tensorflow/core/util/work_sharder.h"
#include "tf_ops/kernels/gpu_stream.h"
#include "tf_ops/kernels/masked_rnn_op_base.h"

namespace tftrt_masking {
namespace {

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
