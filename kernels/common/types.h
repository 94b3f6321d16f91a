// Types shared by every kernel in this layer.
//
// This layer knows nothing about TensorFlow or TensorRT: kernels take raw
// pointers, sizes and a CUDA stream. The TF op kernels, the TF-TRT converters
// and the TensorRT plugins are thin adapters over it. The public headers do not
// include CUDA headers either, so an adapter can be compiled by the host compiler
// against whatever CUDA headers its framework ships.
#ifndef TFTRT_MASKING_KERNELS_COMMON_TYPES_H_
#define TFTRT_MASKING_KERNELS_COMMON_TYPES_H_

#include <cstdint>

// Same type as cudaStream_t / CUstream, forward-declared so that including this
// header needs no CUDA headers.
struct CUstream_st;

namespace tftrt_masking {

using GpuStream = CUstream_st*;

// Element type of floating point tensors crossing the GPU launch API.
// Values are part of the TensorRT plugin serialization format: never renumber.
enum class DType : int32_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kBFloat16 = 2,
  kFloat64 = 3,
};

// Element type of the mask: TF uses bool (1 byte); TensorRT plugins cannot take
// or return bool tensors, so they carry the mask as int32.
enum class MaskDType : int32_t {
  kBool = 0,
  kInt32 = 1,
};

const char* DTypeName(DType dtype);

// GPU entry points return a cudaError_t value as int (0 = success) so that
// callers need no CUDA headers; GpuErrorString() gives its text.
const char* GpuErrorString(int error);

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_COMMON_TYPES_H_
