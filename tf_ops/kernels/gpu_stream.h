// What every GPU op kernel adapter needs from TensorFlow: its CUDA stream and
// the kernel layer's dtype tag. Needs no CUDA headers.
#ifndef TFTRT_MASKING_TF_OPS_KERNELS_GPU_STREAM_H_
#define TFTRT_MASKING_TF_OPS_KERNELS_GPU_STREAM_H_

#include "kernels/common/types.h"
#include "tensorflow/core/framework/op_kernel.h"
#ifdef TFTRT_MASKING_WITH_CUDA
#include "xla/stream_executor/stream.h"
#endif

namespace tftrt_masking {

#ifdef TFTRT_MASKING_WITH_CUDA
// The CUDA stream TensorFlow runs this op on (a cudaStream_t).
inline GpuStream GetGpuStream(tensorflow::OpKernelContext* context) {
  return static_cast<GpuStream>(
      context->op_device_context()->stream()->platform_specific_handle().stream);
}
#endif

// The element types every op of this library has kernels for (x, weights).
#define TFTRT_MASKING_CALL_FLOAT_TYPES(m) \
  m(Eigen::half) m(Eigen::bfloat16) m(float) m(double)

template <typename T>
DType KernelDType();
template <>
inline DType KernelDType<float>() { return DType::kFloat32; }
template <>
inline DType KernelDType<Eigen::half>() { return DType::kFloat16; }
template <>
inline DType KernelDType<Eigen::bfloat16>() { return DType::kBFloat16; }
template <>
inline DType KernelDType<double>() { return DType::kFloat64; }

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_TF_OPS_KERNELS_GPU_STREAM_H_
