// GPU Keras Masking: one pass over x writes the masked output and the mask.
// A group of lanes_per_row lanes of one warp handles a row. When rows are whole
// 16-byte vectors (features * sizeof(T) % 16 == 0, aligned pointers) the vector
// kernel reads each row once into registers (up to kHeldVectors per lane),
// decides the mask and writes the row from registers: bytes moved = x once +
// output once + mask once. Other shapes take the scalar kernel.
#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/masking/masking.h"

namespace tftrt_masking {
namespace {

// Compare in T itself (Keras compares in the compute dtype).
template <typename T>
__device__ __forceinline__ bool NotEqual(T a, T b) { return a != b; }
template <>
__device__ __forceinline__ bool NotEqual<__half>(__half a, __half b) {
  return __half2float(a) != __half2float(b);
}
template <>
__device__ __forceinline__ bool NotEqual<__nv_bfloat16>(__nv_bfloat16 a, __nv_bfloat16 b) {
  return __bfloat162float(a) != __bfloat162float(b);
}

template <typename T>
__device__ __forceinline__ T Zero() { return T(0); }
template <>
__device__ __forceinline__ __half Zero<__half>() { return __float2half(0.0f); }
template <>
__device__ __forceinline__ __nv_bfloat16 Zero<__nv_bfloat16>() { return __float2bfloat16(0.0f); }

template <typename T>
__device__ __forceinline__ T Multiply(T v, bool keep) { return v * (keep ? T(1) : T(0)); }
template <>
__device__ __forceinline__ __half Multiply<__half>(__half v, bool keep) {
  return __float2half(__half2float(v) * (keep ? 1.0f : 0.0f));
}
template <>
__device__ __forceinline__ __nv_bfloat16 Multiply<__nv_bfloat16>(__nv_bfloat16 v, bool keep) {
  return __float2bfloat16(__bfloat162float(v) * (keep ? 1.0f : 0.0f));
}

template <typename T, typename MaskT>
__global__ void MaskingKernel(const T* __restrict__ x, int64_t rows, int64_t features,
                              T masked_value, MaskedOutputMode mode, int lanes_per_row,
                              T* __restrict__ output, MaskT* __restrict__ mask) {
  const int lane = threadIdx.x % lanes_per_row;
  const int64_t rows_per_block = blockDim.x / lanes_per_row;
  const int64_t first_row = static_cast<int64_t>(blockIdx.x) * rows_per_block +
                            threadIdx.x / lanes_per_row;
  const int64_t row_stride = static_cast<int64_t>(gridDim.x) * rows_per_block;
  const unsigned group_mask =
      lanes_per_row == 32 ? 0xffffffffu
                          : ((1u << lanes_per_row) - 1u) << (threadIdx.x % 32 / lanes_per_row *
                                                             lanes_per_row);
  // Every lane of a warp runs the same number of iterations (rows_per_block is
  // a multiple of warps), so the shuffles below never see exited lanes.
  const int64_t iterations = (rows + row_stride - 1) / row_stride;
  for (int64_t it = 0; it < iterations; ++it) {
    const int64_t row = first_row + it * row_stride;
    const bool active = row < rows;
    const T* x_row = x + (active ? row : 0) * features;
    bool keep = false;
    if (active) {
      for (int64_t f = lane; f < features && !keep; f += lanes_per_row) {
        keep = NotEqual(x_row[f], masked_value);
      }
    }
    keep = __any_sync(group_mask, keep);
    if (!active) continue;
    if (lane == 0) mask[row] = static_cast<MaskT>(keep);
    T* out_row = output + row * features;
    for (int64_t f = lane; f < features; f += lanes_per_row) {
      const T v = x_row[f];
      out_row[f] = mode == MaskedOutputMode::kWhere ? (keep ? v : Zero<T>()) : Multiply(v, keep);
    }
  }
}

constexpr int kHeldVectors = 4;

template <typename T>
__device__ __forceinline__ bool AnyNotEqual(const uint4& raw, T masked_value) {
  const T* values = reinterpret_cast<const T*>(&raw);
  bool any = false;
#pragma unroll
  for (int e = 0; e < static_cast<int>(sizeof(uint4) / sizeof(T)); ++e) {
    any |= NotEqual(values[e], masked_value);
  }
  return any;
}

template <typename T>
__device__ __forceinline__ uint4 MaskVector(const uint4& raw, bool keep, MaskedOutputMode mode) {
  // where(): x or +0.0, whose bits are zero in every float format.
  if (mode == MaskedOutputMode::kWhere) return keep ? raw : make_uint4(0u, 0u, 0u, 0u);
  uint4 result;
  const T* values = reinterpret_cast<const T*>(&raw);
  T* out = reinterpret_cast<T*>(&result);
#pragma unroll
  for (int e = 0; e < static_cast<int>(sizeof(uint4) / sizeof(T)); ++e) {
    out[e] = Multiply(values[e], keep);
  }
  return result;
}

template <typename T, typename MaskT>
__global__ void MaskingVectorKernel(const uint4* __restrict__ x, int64_t rows,
                                    int64_t vectors, T masked_value, MaskedOutputMode mode,
                                    int lanes_per_row, uint4* __restrict__ output,
                                    MaskT* __restrict__ mask) {
  const int lane = threadIdx.x % lanes_per_row;
  const int64_t rows_per_block = blockDim.x / lanes_per_row;
  const int64_t first_row = static_cast<int64_t>(blockIdx.x) * rows_per_block +
                            threadIdx.x / lanes_per_row;
  const int64_t row_stride = static_cast<int64_t>(gridDim.x) * rows_per_block;
  const unsigned group_mask =
      lanes_per_row == 32 ? 0xffffffffu
                          : ((1u << lanes_per_row) - 1u) << (threadIdx.x % 32 / lanes_per_row *
                                                             lanes_per_row);
  const int64_t iterations = (rows + row_stride - 1) / row_stride;
  for (int64_t it = 0; it < iterations; ++it) {
    const int64_t row = first_row + it * row_stride;
    const bool active = row < rows;
    const uint4* x_row = x + (active ? row : 0) * vectors;
    uint4 held[kHeldVectors];
    bool keep = false;
    if (active) {
#pragma unroll
      for (int j = 0; j < kHeldVectors; ++j) {
        const int64_t v = lane + static_cast<int64_t>(j) * lanes_per_row;
        if (v < vectors) held[j] = __ldcs(x_row + v);
      }
#pragma unroll
      for (int j = 0; j < kHeldVectors; ++j) {
        const int64_t v = lane + static_cast<int64_t>(j) * lanes_per_row;
        if (v < vectors) keep |= AnyNotEqual(held[j], masked_value);
      }
      // Rows longer than the registers hold: scan the rest, re-read it below.
      for (int64_t v = lane + int64_t{kHeldVectors} * lanes_per_row; v < vectors && !keep;
           v += lanes_per_row) {
        keep = AnyNotEqual(x_row[v], masked_value);
      }
    }
    keep = __any_sync(group_mask, keep);
    if (!active) continue;
    if (lane == 0) mask[row] = static_cast<MaskT>(keep);
    uint4* out_row = output + row * vectors;
#pragma unroll
    for (int j = 0; j < kHeldVectors; ++j) {
      const int64_t v = lane + static_cast<int64_t>(j) * lanes_per_row;
      if (v < vectors) __stcs(out_row + v, MaskVector<T>(held[j], keep, mode));
    }
    for (int64_t v = lane + int64_t{kHeldVectors} * lanes_per_row; v < vectors;
         v += lanes_per_row) {
      __stcs(out_row + v, MaskVector<T>(x_row[v], keep, mode));
    }
  }
}

template <typename T>
T FromFloat(float v) { return static_cast<T>(v); }
template <>
__half FromFloat<__half>(float v) { return __float2half(v); }
template <>
__nv_bfloat16 FromFloat<__nv_bfloat16>(float v) { return __float2bfloat16(v); }

template <typename T, typename MaskT>
int Launch(const void* x, int64_t rows, int64_t features, float mask_value,
           MaskedOutputMode mode, void* output, void* mask, cudaStream_t stream) {
  constexpr int64_t kPerVector = sizeof(uint4) / sizeof(T);
  const bool aligned = reinterpret_cast<uintptr_t>(x) % sizeof(uint4) == 0 &&
                       reinterpret_cast<uintptr_t>(output) % sizeof(uint4) == 0;
  if (aligned && features > 0 && features % kPerVector == 0) {
    // Same launch rule, counted in groups of kHeldVectors 16-byte vectors: each
    // lane keeps up to kHeldVectors vectors of its row in flight.
    const int64_t vectors = features / kPerVector;
    const MaskingLaunchConfig config =
        GetMaskingLaunchConfig(rows, (vectors + kHeldVectors - 1) / kHeldVectors);
    if (config.grid == 0) return cudaSuccess;
    MaskingVectorKernel<T, MaskT><<<config.grid, config.block, 0, stream>>>(
        static_cast<const uint4*>(x), rows, vectors, FromFloat<T>(mask_value), mode,
        config.lanes_per_row, static_cast<uint4*>(output), static_cast<MaskT*>(mask));
    return cudaGetLastError();
  }
  const MaskingLaunchConfig config = GetMaskingLaunchConfig(rows, features);
  if (config.grid == 0) return cudaSuccess;
  MaskingKernel<T, MaskT><<<config.grid, config.block, 0, stream>>>(
      static_cast<const T*>(x), rows, features, FromFloat<T>(mask_value), mode,
      config.lanes_per_row, static_cast<T*>(output), static_cast<MaskT*>(mask));
  return cudaGetLastError();
}

template <typename T>
int LaunchForMask(MaskDType mask_dtype, const void* x, int64_t rows, int64_t features,
                  float mask_value, MaskedOutputMode mode, void* output, void* mask,
                  cudaStream_t stream) {
  switch (mask_dtype) {
    case MaskDType::kBool:
      return Launch<T, bool>(x, rows, features, mask_value, mode, output, mask, stream);
    case MaskDType::kInt32:
      return Launch<T, int32_t>(x, rows, features, mask_value, mode, output, mask, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

int LaunchMasking(DType dtype, const void* x, int64_t rows, int64_t features,
                  float mask_value, MaskedOutputMode mode, void* output,
                  MaskDType mask_dtype, void* mask, GpuStream stream) {
  switch (dtype) {
    case DType::kFloat32:
      return LaunchForMask<float>(mask_dtype, x, rows, features, mask_value, mode, output,
                                  mask, stream);
    case DType::kFloat16:
      return LaunchForMask<__half>(mask_dtype, x, rows, features, mask_value, mode, output,
                                   mask, stream);
    case DType::kBFloat16:
      return LaunchForMask<__nv_bfloat16>(mask_dtype, x, rows, features, mask_value, mode,
                                          output, mask, stream);
    case DType::kFloat64:
      return LaunchForMask<double>(mask_dtype, x, rows, features, mask_value, mode, output,
                                   mask, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace tftrt_masking
