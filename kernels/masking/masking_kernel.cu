// GPU Keras Masking: one pass over x writes the masked output and the mask
// (bytes moved = x once + output once + mask once). Which kernel serves a shape
// (ChooseMaskingKernel, masking_launch_config.cc):
// - vector kernel: aligned rows of whole 16-byte vectors, >= 256 bytes. A group
//   of lanes_per_row lanes of one warp holds its row in registers (up to
//   kHeldVectors per lane), decides the mask and writes the row (~95% of copy).
// - tile kernel: aligned pointers, other rows < 256 bytes, or rows up to 1 KiB
//   that are not whole 16-byte vectors (odd F). Short rows give a lane group too few
//   bytes in flight (77-79% of copy), odd rows cannot be read as vectors at all
//   (scalar kernel: 19% at F = 7). Here the tensor is one flat byte stream: a
//   block moves tiles of whole rows (<= 16 KiB) through shared memory with
//   16-byte loads and stores, and decides the rows from shared memory.
// - short-rows kernel: aligned rows of 1, 2, 4 or 8 whole 16-byte vectors
//   (16-128 bytes; fp16 F = 8..64, fp32 F = 4..32): one vector per lane, 8 rows
//   per thread in flight, no shared memory (the tile kernel: 75% of copy at
//   fp16 F = 8, 79-85% at fp16 F = 64).
// - scalar kernel: everything else (unaligned pointers, zero features, long odd
//   rows), element by element.
// Debug knobs (environment, read per launch): TFTRT_MASKING_NO_TILE=1 (the
// vector or scalar kernel instead of the tile kernel, for A/B timings),
// TFTRT_MASKING_NO_SHORT_ROWS=1 (the tile kernel for short rows),
// TFTRT_MASKING_MAX_GRID=N (at most N tile or short-rows blocks: small tensors
// then loop over several tiles or chunks per block, for tests).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/masking/bit_compare.h"
#include "kernels/masking/masking.h"

namespace tftrt_masking {
namespace {

// Compare in T itself: the host has made the mask value a T already (or NaN,
// when T cannot hold it: ComparedMaskValue in masking.h).
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

// The lanes of this thread's warp that share its row (lanes_per_row: a power
// of two <= 32, consecutive threads), for the row's __any_sync.
__device__ __forceinline__ unsigned LaneGroupMask(int lanes_per_row) {
  if (lanes_per_row == 32) return 0xffffffffu;
  return ((1u << lanes_per_row) - 1u) << (threadIdx.x % 32 / lanes_per_row * lanes_per_row);
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
  const unsigned group_mask = LaneGroupMask(lanes_per_row);
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

// Whether any element of a 16-byte vector != masked_value, on the raw bits
// (bit_compare.h); the pattern depends only on the kernel's masked_value and
// is hoisted out of the loops.
template <typename T>
__device__ __forceinline__ bool AnyNotEqual(const uint4& raw, T masked_value) {
  uint64_t bits = 0;
  memcpy(&bits, &masked_value, sizeof(T));
  const MaskValuePattern pattern =
      MakeMaskValuePattern(bits, sizeof(T), NotEqual(masked_value, masked_value));
  return AnyElementDiffers(raw.x, raw.y, raw.z, raw.w, pattern);
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
  const unsigned group_mask = LaneGroupMask(lanes_per_row);
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

// Short rows of V = 1, 2, 4 or 8 whole 16-byte vectors (16-128 bytes): the V
// lanes of a row each hold one vector of it, for kShortRowsPerThread rows
// (one per pass) in flight, so each load of a warp reads 512 contiguous bytes
// and a thread has 128 bytes in flight. A row's V lanes agree through one warp
// vote per pass; no shared memory.
constexpr int kShortRowsPerThread = 8;
constexpr int kShortRowsThreads = 256;

template <typename T, typename MaskT, int V>
__global__ void __launch_bounds__(kShortRowsThreads)
    MaskingShortRowsKernel(const uint4* __restrict__ x, int64_t rows, T masked_value,
                           MaskedOutputMode mode, uint4* __restrict__ output,
                           MaskT* __restrict__ mask) {
  static_assert(V == 1 || V == 2 || V == 4 || V == 8, "a row's lanes inside one warp");
  constexpr int kRowsPerPass = kShortRowsThreads / V;
  constexpr int64_t kChunkRows = int64_t{kRowsPerPass} * kShortRowsPerThread;
  const int vector = threadIdx.x % V;
  const int row_in_pass = threadIdx.x / V;
  const unsigned row_lanes = LaneGroupMask(V);  // this row's lanes in the warp's vote
  // Block-uniform loop: every lane reaches every vote.
  for (int64_t first = blockIdx.x * kChunkRows; first < rows;
       first += int64_t{gridDim.x} * kChunkRows) {
    uint4 held[kShortRowsPerThread];
#pragma unroll
    for (int j = 0; j < kShortRowsPerThread; ++j) {
      const int64_t row = first + row_in_pass + j * kRowsPerPass;
      if (row < rows) held[j] = __ldcs(x + row * V + vector);
    }
#pragma unroll
    for (int j = 0; j < kShortRowsPerThread; ++j) {
      const int64_t row = first + row_in_pass + j * kRowsPerPass;
      const bool any = row < rows && AnyNotEqual(held[j], masked_value);
      const bool keep = (__ballot_sync(~0u, any) & row_lanes) != 0;
      if (row >= rows) continue;
      if (vector == 0) mask[row] = static_cast<MaskT>(keep);
      __stcs(output + row * V + vector, MaskVector<T>(held[j], keep, mode));
    }
  }
}

constexpr int kTileVectors = kMaskingTileBytes / static_cast<int>(sizeof(uint4));
constexpr int kTileVectorsPerThread = kTileVectors / kMaskingTileThreads;
static_assert(kTileVectorsPerThread * kMaskingTileThreads == kTileVectors, "whole vectors");

// One tile: rows [first_row, first_row + rows) as a flat run of whole 16-byte
// vectors, then (last tile only) the tail: fewer than 16 bytes, element by element.
struct TileSpan {
  int64_t first_row;
  int rows;
  int vectors;
  int tail;
};

template <typename T>
__device__ __forceinline__ TileSpan GetTileSpan(int64_t tile, int64_t rows, int features,
                                                int tile_rows) {
  constexpr int kPerVector = sizeof(uint4) / sizeof(T);
  TileSpan span;
  span.first_row = tile * tile_rows;
  span.rows = static_cast<int>(min(static_cast<int64_t>(tile_rows), rows - span.first_row));
  const int elements = span.rows * features;  // <= kMaskingTileBytes / sizeof(T)
  span.vectors = elements / kPerVector;
  span.tail = elements % kPerVector;
  return span;
}

// Issues the tile's global loads into registers; the caller stores them into
// shared memory later, so the loads stay in flight meanwhile.
template <typename T>
__device__ __forceinline__ void LoadTile(const T* __restrict__ x, int features,
                                         const TileSpan& span,
                                         uint4 (&held)[kTileVectorsPerThread], T* held_tail) {
  constexpr int kPerVector = sizeof(uint4) / sizeof(T);
  const T* src = x + span.first_row * features;  // 16-byte aligned: tile_rows % 16 == 0
  const uint4* src_vectors = reinterpret_cast<const uint4*>(src);
  const int t = threadIdx.x;
#pragma unroll
  for (int j = 0; j < kTileVectorsPerThread; ++j) {
    const int v = t + j * kMaskingTileThreads;
    if (v < span.vectors) held[j] = __ldcs(src_vectors + v);
  }
  if (t < span.tail) *held_tail = src[span.vectors * kPerVector + t];
}

// Blocks loop over tiles of tile_rows rows. Per tile: (1) the tile (loaded into
// registers during the previous tile) goes to shared memory and the next tile's
// loads are issued, in flight until the next (1); (2) lane groups decide rows
// from shared memory, write the mask and rewrite masked rows in place; (3)
// 16-byte stores of the tile.
template <typename T, typename MaskT>
__global__ void __launch_bounds__(kMaskingTileThreads)
    MaskingTileKernel(const T* __restrict__ x, int64_t rows, int features, T masked_value,
                      MaskedOutputMode mode, int tile_rows, int lanes_per_row,
                      T* __restrict__ output, MaskT* __restrict__ mask) {
  constexpr int kPerVector = sizeof(uint4) / sizeof(T);
  __shared__ uint4 tile_vectors[kTileVectors];
  T* const tile_elements = reinterpret_cast<T*>(tile_vectors);
  const int64_t tiles = (rows + tile_rows - 1) / tile_rows;
  int64_t tile = blockIdx.x;
  if (tile >= tiles) return;  // whole block: the grid is never larger than tiles

  const int t = threadIdx.x;
  const int lane = t % lanes_per_row;
  const int groups = kMaskingTileThreads / lanes_per_row;
  const unsigned group_mask = LaneGroupMask(lanes_per_row);
  // Rows of whole vectors are scanned as 16-byte vectors, others element by element.
  const int row_vectors = features % kPerVector == 0 ? features / kPerVector : 0;
  // Rotating where each row's scan starts spreads the 8 threads of a quarter
  // warp over the 8 16-byte bank groups (e.g. 2-vector rows: rows r and r + 4
  // start on different vectors): conflict-free for 1, 2, 4, 8-vector rows.
  const int rotate_divisor = row_vectors > 0 ? 8 / min(row_vectors & -row_vectors, 8) : 1;

  TileSpan span = GetTileSpan<T>(tile, rows, features, tile_rows);
  uint4 held[kTileVectorsPerThread];
  T held_tail;
  LoadTile(x, features, span, held, &held_tail);
  while (true) {
    // (1) Registers -> shared memory; then the next tile's loads.
#pragma unroll
    for (int j = 0; j < kTileVectorsPerThread; ++j) {
      const int v = t + j * kMaskingTileThreads;
      if (v < span.vectors) tile_vectors[v] = held[j];
    }
    if (t < span.tail) tile_elements[span.vectors * kPerVector + t] = held_tail;
    const int64_t next_tile = tile + gridDim.x;
    TileSpan next_span = span;
    if (next_tile < tiles) {
      next_span = GetTileSpan<T>(next_tile, rows, features, tile_rows);
      LoadTile(x, features, next_span, held, &held_tail);
    }
    __syncthreads();

    // (2) Rows from shared memory. Every thread runs the same iterations (rows
    // is uniform over the block), so the group shuffle sees whole warps.
    const int iterations = (span.rows + groups - 1) / groups;
    for (int it = 0; it < iterations; ++it) {
      const int r = t / lanes_per_row + it * groups;
      const bool active = r < span.rows;
      bool keep = false;
      int rotation = 0;
      if (active && row_vectors > 0) {
        rotation = r * lanes_per_row / rotate_divisor % row_vectors;
        const uint4* row = tile_vectors + r * row_vectors;
        for (int v = lane; v < row_vectors && !keep; v += lanes_per_row) {
          const int at = v + rotation < row_vectors ? v + rotation : v + rotation - row_vectors;
          const uint4 raw = row[at];
          keep = AnyNotEqual(raw, masked_value);
        }
      } else if (active) {
        const T* row = tile_elements + r * features;
        for (int f = lane; f < features && !keep; f += lanes_per_row) {
          keep = NotEqual(row[f], masked_value);
        }
      }
      keep = __any_sync(group_mask, keep);
      if (!active) continue;
      if (lane == 0) mask[span.first_row + r] = static_cast<MaskT>(keep);
      // Kept rows stay as they are: x, and x * 1 == x (NaN stays NaN).
      if (keep) continue;
      if (row_vectors > 0) {
        uint4* row = tile_vectors + r * row_vectors;
        for (int v = lane; v < row_vectors; v += lanes_per_row) {
          const int at = v + rotation < row_vectors ? v + rotation : v + rotation - row_vectors;
          const uint4 raw = row[at];
          row[at] = MaskVector<T>(raw, false, mode);
        }
      } else {
        T* row = tile_elements + r * features;
        for (int f = lane; f < features; f += lanes_per_row) {
          row[f] = mode == MaskedOutputMode::kWhere ? Zero<T>() : Multiply(row[f], false);
        }
      }
    }
    __syncthreads();

    // (3) Shared memory -> output.
    T* dst = output + span.first_row * features;
    uint4* dst_vectors = reinterpret_cast<uint4*>(dst);
#pragma unroll
    for (int j = 0; j < kTileVectorsPerThread; ++j) {
      const int v = t + j * kMaskingTileThreads;
      if (v < span.vectors) __stcs(dst_vectors + v, tile_vectors[v]);
    }
    if (t < span.tail) {
      dst[span.vectors * kPerVector + t] = tile_elements[span.vectors * kPerVector + t];
    }
    if (next_tile >= tiles) break;
    __syncthreads();  // (3) has read the buffer before (1) of the next tile refills it
    tile = next_tile;
    span = next_span;
  }
}

int EnvInt(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : 0;
}

// Blocks of `kernel` (kMaskingTileThreads threads, no dynamic shared memory)
// the current device runs at once: SMs x blocks per SM.
template <typename Kernel>
cudaError_t ResidentBlocks(Kernel kernel, int* blocks) {
  int device = 0, sms = 0, per_sm = 0;
  cudaError_t error = cudaGetDevice(&device);
  if (error != cudaSuccess ||
      (error = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device)) !=
          cudaSuccess ||
      (error = MaxActiveBlocksPerSm(kernel, kMaskingTileThreads, 0, &per_sm)) != cudaSuccess) {
    return error;
  }
  *blocks = sms * per_sm;
  return cudaSuccess;
}

template <typename T, typename MaskT, int V>
int LaunchShortRows(const void* x, int64_t rows, T masked_value, MaskedOutputMode mode,
                    void* output, void* mask, int max_grid, cudaStream_t stream) {
  constexpr int64_t kChunkRows = int64_t{kShortRowsThreads} / V * kShortRowsPerThread;
  constexpr int64_t kMaxBlocks = int64_t{1} << 20;  // then the blocks loop
  int64_t grid = std::min((rows + kChunkRows - 1) / kChunkRows, kMaxBlocks);
  if (max_grid > 0) grid = std::min<int64_t>(grid, max_grid);
  MaskingShortRowsKernel<T, MaskT, V><<<grid, kShortRowsThreads, 0, stream>>>(
      static_cast<const uint4*>(x), rows, masked_value, mode,
      static_cast<uint4*>(output), static_cast<MaskT*>(mask));
  return cudaGetLastError();
}

template <typename T, typename MaskT>
int Launch(const void* x, int64_t rows, int64_t features, double mask_value,
           MaskedOutputMode mode, void* output, void* mask, cudaStream_t stream) {
  constexpr int64_t kPerVector = sizeof(uint4) / sizeof(T);
  // Decided here, once: a value T cannot hold becomes NaN, which the kernels
  // (bit patterns included) already treat as equal to nothing.
  const T masked_value = ComparedMaskValue<T>(mask_value);
  const bool aligned = reinterpret_cast<uintptr_t>(x) % sizeof(uint4) == 0 &&
                       reinterpret_cast<uintptr_t>(output) % sizeof(uint4) == 0;
  if (rows <= 0) return cudaSuccess;
  MaskingKernelKind kind = ChooseMaskingKernel(features, sizeof(T), aligned);
  if (kind == MaskingKernelKind::kShortRows && EnvInt("TFTRT_MASKING_NO_SHORT_ROWS") > 0) {
    kind = MaskingKernelKind::kTile;
  }
  const int max_grid = EnvInt("TFTRT_MASKING_MAX_GRID");
  if (kind == MaskingKernelKind::kShortRows) {
    auto launch = [&](auto vectors) {  // vectors: std::integral_constant, 16-byte vectors per row
      return LaunchShortRows<T, MaskT, decltype(vectors)::value>(x, rows, masked_value, mode,
                                                                 output, mask, max_grid, stream);
    };
    switch (features / kPerVector) {
      case 1: return launch(std::integral_constant<int, 1>());
      case 2: return launch(std::integral_constant<int, 2>());
      case 4: return launch(std::integral_constant<int, 4>());
      case 8: return launch(std::integral_constant<int, 8>());
    }
    return cudaErrorInvalidValue;
  }
  if (kind == MaskingKernelKind::kTile && EnvInt("TFTRT_MASKING_NO_TILE") > 0) {
    kind = features % kPerVector == 0 ? MaskingKernelKind::kVector : MaskingKernelKind::kScalar;
  }
  if (kind == MaskingKernelKind::kTile) {
    const auto kernel = MaskingTileKernel<T, MaskT>;
    int resident_blocks = 0;
    const cudaError_t error = ResidentBlocks(kernel, &resident_blocks);
    if (error != cudaSuccess) return error;
    if (max_grid > 0) resident_blocks = std::min(resident_blocks, max_grid);
    const MaskingTileConfig config =
        GetMaskingTileConfig(rows, features * static_cast<int64_t>(sizeof(T)), resident_blocks);
    if (config.grid == 0) return cudaSuccess;
    kernel<<<config.grid, config.block, 0, stream>>>(
        static_cast<const T*>(x), rows, static_cast<int>(features), masked_value,
        mode, config.tile_rows, config.lanes_per_row, static_cast<T*>(output),
        static_cast<MaskT*>(mask));
    return cudaGetLastError();
  }
  if (kind == MaskingKernelKind::kVector) {
    // Same launch rule, counted in groups of kHeldVectors 16-byte vectors: each
    // lane keeps up to kHeldVectors vectors of its row in flight.
    const int64_t vectors = features / kPerVector;
    const MaskingLaunchConfig config =
        GetMaskingLaunchConfig(rows, (vectors + kHeldVectors - 1) / kHeldVectors);
    if (config.grid == 0) return cudaSuccess;
    MaskingVectorKernel<T, MaskT><<<config.grid, config.block, 0, stream>>>(
        static_cast<const uint4*>(x), rows, vectors, masked_value, mode,
        config.lanes_per_row, static_cast<uint4*>(output), static_cast<MaskT*>(mask));
    return cudaGetLastError();
  }
  const MaskingLaunchConfig config = GetMaskingLaunchConfig(rows, features);
  if (config.grid == 0) return cudaSuccess;
  MaskingKernel<T, MaskT><<<config.grid, config.block, 0, stream>>>(
      static_cast<const T*>(x), rows, features, masked_value, mode,
      config.lanes_per_row, static_cast<T*>(output), static_cast<MaskT*>(mask));
  return cudaGetLastError();
}

template <typename T>
int LaunchForMask(MaskDType mask_dtype, const void* x, int64_t rows, int64_t features,
                  double mask_value, MaskedOutputMode mode, void* output, void* mask,
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
                  double mask_value, MaskedOutputMode mode, void* output,
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

double MaskValueRoundedTo(DType dtype, float mask_value) {
  switch (dtype) {
    case DType::kFloat16:
      return static_cast<double>(__half2float(__float2half_rn(mask_value)));
    case DType::kBFloat16:
      return static_cast<double>(__bfloat162float(__float2bfloat16_rn(mask_value)));
    case DType::kFloat32:
    case DType::kFloat64:
      break;
  }
  return static_cast<double>(mask_value);
}

}  // namespace tftrt_masking
