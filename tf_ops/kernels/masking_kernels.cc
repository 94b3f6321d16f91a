// TensorFlow kernels of Masking: adapters over kernels/masking.
#include "kernels/masking/masking.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/types.h"
#include "tensorflow/core/util/work_sharder.h"
#include "tf_ops/kernels/gpu_stream.h"
#include "tf_ops/kernels/masking_attrs.h"

namespace tftrt_masking {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;

// Attributes and the [rows, features] view shared by the CPU and GPU kernels.
class MaskingOpBase : public OpKernel {
 public:
  explicit MaskingOpBase(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, MaskValueFromAttrs(context->def(), name(), &mask_value_));
    std::string output_mode;
    OP_REQUIRES_OK(context, context->GetAttr("output_mode", &output_mode));
    output_mode_ =
        output_mode == "multiply" ? MaskedOutputMode::kMultiply : MaskedOutputMode::kWhere;
  }

 protected:
  // Validates x, allocates both outputs and gives the [rows, features] view.
  absl::Status Prepare(OpKernelContext* context, int64_t* rows, int64_t* features,
                       Tensor** output, Tensor** mask) {
    const Tensor& x = context->input(0);
    if (x.dims() < 2) {
      return tensorflow::errors::InvalidArgument(
          "Masking (", name(), ") needs x of rank >= 2 (batch, ..., features), got shape ",
          x.shape().DebugString());
    }
    TensorShape mask_shape = x.shape();
    mask_shape.RemoveLastDims(1);
    TF_RETURN_IF_ERROR(context->allocate_output(0, x.shape(), output));
    TF_RETURN_IF_ERROR(context->allocate_output(1, mask_shape, mask));
    *rows = mask_shape.num_elements();
    *features = x.dim_size(x.dims() - 1);
    return absl::OkStatus();
  }

  // The number rows are compared against, exactly (kernels/masking/masking.h).
  double mask_value_ = 0.0;
  MaskedOutputMode output_mode_ = MaskedOutputMode::kWhere;

};

template <typename T>
class MaskingCpuOp : public MaskingOpBase {
 public:
  using MaskingOpBase::MaskingOpBase;

  void Compute(OpKernelContext* context) override {
    int64_t rows = 0, features = 0;
    Tensor* output = nullptr;
    Tensor* mask = nullptr;
    OP_REQUIRES_OK(context, Prepare(context, &rows, &features, &output, &mask));
    const T* x = context->input(0).flat<T>().data();
    T* out = output->flat<T>().data();
    bool* mask_data = mask->flat<bool>().data();
    const double mask_value = mask_value_;
    const MaskedOutputMode mode = output_mode_;
    auto rows_shard = [&](int64_t begin, int64_t end) {
      MaskingRowsCpu<T, bool>(x, features, mask_value, mode, begin, end, out, mask_data);
    };
    // Cost per row: one compare and one store per feature.
    const auto* workers = context->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(workers->num_threads, workers->workers, rows,
                      /*cost_per_unit=*/std::max<int64_t>(1, 4 * features), rows_shard);
  }
};

#define REGISTER_MASKING_CPU(T)                                           \
  REGISTER_KERNEL_BUILDER(                                                \
      Name("Masking").Device(tensorflow::DEVICE_CPU).TypeConstraint<T>("T"), \
      MaskingCpuOp<T>);
TFTRT_MASKING_CALL_FLOAT_TYPES(REGISTER_MASKING_CPU);
#undef REGISTER_MASKING_CPU

#ifdef TFTRT_MASKING_WITH_CUDA

template <typename T>
class MaskingGpuOp : public MaskingOpBase {
 public:
  using MaskingOpBase::MaskingOpBase;

  void Compute(OpKernelContext* context) override {
    int64_t rows = 0, features = 0;
    Tensor* output = nullptr;
    Tensor* mask = nullptr;
    OP_REQUIRES_OK(context, Prepare(context, &rows, &features, &output, &mask));
    const int error = LaunchMasking(
        KernelDType<T>(), context->input(0).data(), rows, features, mask_value_, output_mode_,
        output->data(), MaskDType::kBool, mask->data(), GetGpuStream(context));
    OP_REQUIRES(context, error == 0,
                tensorflow::errors::Internal("Masking (", name(),
                                             ") CUDA launch failed: ", GpuErrorString(error)));
  }
};

#define REGISTER_MASKING_GPU(T)                                           \
  REGISTER_KERNEL_BUILDER(                                                \
      Name("Masking").Device(tensorflow::DEVICE_GPU).TypeConstraint<T>("T"), \
      MaskingGpuOp<T>);
TFTRT_MASKING_CALL_FLOAT_TYPES(REGISTER_MASKING_GPU);
#undef REGISTER_MASKING_GPU

#endif  // TFTRT_MASKING_WITH_CUDA

}  // namespace
}  // namespace tftrt_masking
