// Keras Masking: mask = any(x != mask_value, axis=-1), output = masked x.
//
// The tensor is seen as [rows, features]: rows = prod(shape[:-1]) (the mask's
// shape), features = shape[-1]. Semantics (shared/docs/keras-masking-spec.md 1):
// - x == mask_value is exact, as numbers: mask_value is a double, and an
//   element equals it only if it is that very number. Keras compares the
//   element, autocast to the compute dtype, against its mask value in a dtype
//   that holds both (Keras 3: float16 x against float32(0.1), in float32), so a
//   value the element type cannot hold (0.1, -999.9, 1e5 in float16) equals no
//   element. Which number that is (float32(0.1) for Keras 3, float16(0.1) for
//   tf_keras) is the caller's decision; ComparedMaskValue makes it a T on the host;
// - a NaN mask_value masks nothing; a NaN feature keeps its row;
// - zero features: any() over nothing is false, every row masked.
#ifndef TFTRT_MASKING_KERNELS_MASKING_MASKING_H_
#define TFTRT_MASKING_KERNELS_MASKING_MASKING_H_

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/common/types.h"

namespace tftrt_masking {

// How masked rows are written. Values are serialized in the TensorRT plugin.
enum class MaskedOutputMode : int32_t {
  // where(mask, x, 0): +0.0 at masked rows (Keras >= 3.15).
  kWhere = 0,
  // x * cast(mask): keeps the sign of x (-0.0 for mask_value -1), NaN for
  // mask_value inf (tf_keras and Keras 3.0 - 3.14).
  kMultiply = 1,
};

// The element rows are compared against, decided on the host: mask_value
// itself when T holds it exactly, else NaN, which equals no element (as the
// number itself would not). T: float, double, or a 16-bit float type that
// converts exactly to and from float (Eigen::half / bfloat16, __half, __nv_bfloat16).
template <typename T>
T ComparedMaskValue(double mask_value) {
  // Beyond float's range (and so beyond the 16-bit types'): no T holds it.
  const bool in_range = std::isinf(mask_value) ||
                        std::fabs(mask_value) <= std::numeric_limits<float>::max();
  if (in_range) {
    const T held = static_cast<T>(static_cast<float>(mask_value));
    if (static_cast<double>(static_cast<float>(held)) == mask_value) return held;
  }
  return static_cast<T>(std::numeric_limits<float>::quiet_NaN());
}
template <>
inline double ComparedMaskValue<double>(double mask_value) { return mask_value; }

// CPU implementation for rows [row_begin, row_end). T is any type convertible
// from float with != and * (float, double, Eigen::half, Eigen::bfloat16).
// MaskT is bool or int32_t. mask_value: compared exactly (see the top).
template <typename T, typename MaskT>
void MaskingRowsCpu(const T* x, int64_t features, double mask_value,
                    MaskedOutputMode mode, int64_t row_begin, int64_t row_end,
                    T* output, MaskT* mask) {
  const T masked_value = ComparedMaskValue<T>(mask_value);
  const T zero = static_cast<T>(0.0f);
  const T one = static_cast<T>(1.0f);
  for (int64_t row = row_begin; row < row_end; ++row) {
    const T* x_row = x + row * features;
    T* out_row = output + row * features;
    bool keep = false;
    for (int64_t f = 0; f < features; ++f) {
      if (x_row[f] != masked_value) {
        keep = true;
        break;
      }
    }
    mask[row] = static_cast<MaskT>(keep);
    if (mode == MaskedOutputMode::kWhere) {
      for (int64_t f = 0; f < features; ++f) out_row[f] = keep ? x_row[f] : zero;
    } else {
      const T factor = keep ? one : zero;
      for (int64_t f = 0; f < features; ++f) {
        out_row[f] = static_cast<T>(x_row[f] * factor);
      }
    }
  }
}

// Grid and block the GPU kernel uses for a [rows, features] tensor. Host-side
// and pure so that tests can check it on odd sizes without a GPU.
struct MaskingLaunchConfig {
  int64_t grid = 0;       // blocks (0 when there is nothing to do)
  int32_t block = 0;      // threads per block
  int32_t rows_per_block = 0;
  int32_t lanes_per_row = 0;  // threads that cooperate on one row
};
MaskingLaunchConfig GetMaskingLaunchConfig(int64_t rows, int64_t features);

// Which GPU kernel serves a shape (masking_kernel.cu says why).
enum class MaskingKernelKind : int32_t {
  kScalar = 0,  // unaligned pointers, zero features, long rows of odd length
  kVector = 1,  // aligned rows of whole 16-byte vectors, >= 256 bytes
  kTile = 2,    // aligned, other rows < 256 bytes, or not whole vectors and <= 1 KiB
  kShortRows = 3,  // aligned rows of 1, 2, 4 or 8 whole 16-byte vectors
};
// element_bytes: sizeof(T), one of 2, 4, 8; aligned: x and output 16-byte aligned.
MaskingKernelKind ChooseMaskingKernel(int64_t features, int64_t element_bytes, bool aligned);

// The tile kernel moves tiles of whole rows through shared memory: a tile of at
// most kMaskingTileBytes, tile_rows a multiple of 16 so every tile starts on a
// 16-byte boundary.
constexpr int32_t kMaskingTileThreads = 256;
constexpr int32_t kMaskingTileBytes = 16384;
constexpr int32_t kMaskingTileMaxRowBytes = kMaskingTileBytes / 16;
struct MaskingTileConfig {
  int64_t grid = 0;           // blocks (0 when there is nothing to do)
  int32_t block = 0;          // threads per block
  int32_t tile_rows = 0;      // rows per tile, a multiple of 16
  int32_t lanes_per_row = 0;  // threads that scan one row of a tile
};
// row_bytes <= kMaskingTileMaxRowBytes; resident_blocks: blocks the device runs
// at once (SMs x blocks per SM), the grid's cap (blocks loop over tiles).
MaskingTileConfig GetMaskingTileConfig(int64_t rows, int64_t row_bytes, int64_t resident_blocks);

// GPU: reads x once and writes output and mask in one pass. x, output: [rows,
// features] of dtype; mask: [rows] of mask_dtype; mask_value compared exactly
// (see the top). Returns a cudaError_t value.
int LaunchMasking(DType dtype, const void* x, int64_t rows, int64_t features,
                  double mask_value, MaskedOutputMode mode, void* output,
                  MaskDType mask_dtype, void* mask, GpuStream stream);

// mask_value rounded to dtype (round to nearest even, as TensorFlow casts):
// what the element type makes of a float mask value. For format-1 TensorRT
// plugins, which compared against mask_value converted to x's type. GPU
// builds only (it uses the CUDA 16-bit types).
double MaskValueRoundedTo(DType dtype, float mask_value);

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_MASKING_MASKING_H_
