// Keras Masking: mask = any(x != mask_value, axis=-1), output = masked x.
//
// The tensor is seen as [rows, features]: rows = prod(shape[:-1]) (the mask's
// shape), features = shape[-1]. Semantics (shared/docs/keras-masking-spec.md 1):
// - comparison in the element type T, against mask_value converted to T
//   (Keras compares after autocasting to the layer's compute dtype);
// - a NaN mask_value masks nothing; a NaN feature keeps its row;
// - zero features: any() over nothing is false, every row masked.
#ifndef TFTRT_MASKING_KERNELS_MASKING_MASKING_H_
#define TFTRT_MASKING_KERNELS_MASKING_MASKING_H_

#include <cstdint>

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

// CPU implementation for rows [row_begin, row_end). T is any type convertible
// from float with != and * (float, double, Eigen::half, Eigen::bfloat16).
// MaskT is bool or int32_t.
template <typename T, typename MaskT>
void MaskingRowsCpu(const T* x, int64_t features, float mask_value,
                    MaskedOutputMode mode, int64_t row_begin, int64_t row_end,
                    T* output, MaskT* mask) {
  const T masked_value = static_cast<T>(mask_value);
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
// features] of dtype; mask: [rows] of mask_dtype. Returns a cudaError_t value.
int LaunchMasking(DType dtype, const void* x, int64_t rows, int64_t features,
                  float mask_value, MaskedOutputMode mode, void* output,
                  MaskDType mask_dtype, void* mask, GpuStream stream);

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_MASKING_MASKING_H_
