// The input projection of the GPU recurrence: xproj = x @ kernel + bias for
// every timestep as one GEMM (own tiled kernels, no cuBLAS). See
// masked_rnn_projection.cuh.
#include "kernels/rnn/masked_rnn_projection.cuh"

#include <algorithm>
#include <type_traits>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

// Input projection: C[M, N] = A[M, K] @ W[K, N] + bias[N] (bias may be null).
constexpr int kTileM = 64, kTileN = 64, kTileK = 16;

// Split K (small products, sm_90+): the gridDim.z blocks of a cluster along z
// each sum one slice of K, whole K tiles; gridDim.z == 1: all of K.
struct KSlice {
  int begin, end;
  __device__ KSlice(int k, int tile_k) {
    const int tiles = (k + tile_k - 1) / tile_k;
    const int per_block = (tiles + gridDim.z - 1) / gridDim.z * tile_k;
    begin = min(k, static_cast<int>(blockIdx.z) * per_block);
    end = min(k, begin + per_block);
  }
};

// Split-K epilogue: each block of the cluster holds its partial tile in
// `partial` ([tile_rows][pitch] floats); block q sums rows [q, q + 1) *
// tile_rows / S of all S partial tiles in rank order (deterministic) and stores
// them with the bias. tile_rows % S == 0 (S <= 8, tiles of 64 rows).
template <typename T>
__device__ void StoreSplitKTile(const float* partial, int tile_rows, int tile_cols, int pitch,
                                int64_t row0, int col0, int64_t m, int n,
                                const T* __restrict__ bias, float* __restrict__ c) {
  const unsigned split = gridDim.z, rank = ClusterRank();
  ClusterBarrier();  // every partial tile is complete
  const int rows = tile_rows / static_cast<int>(split);
  for (int e = threadIdx.x; e < rows * tile_cols; e += blockDim.x) {
    const int r = static_cast<int>(rank) * rows + e / tile_cols, col = e % tile_cols;
    float sum = 0.0f;
    for (unsigned q = 0; q < split; ++q) sum += LoadFromCluster(MapToRank(partial + r * pitch + col, q));
    const int64_t row = row0 + r;
    const int gc = col0 + col;
    if (row < m && gc < n) c[row * n + gc] = sum + (bias ? ToAcc<float>(bias[gc]) : 0.0f);
  }
  ClusterBarrier();  // no block leaves while its partial tile is read
}

template <typename T, typename Acc>
__global__ void __launch_bounds__(256) ProjectionKernel(const T* __restrict__ a,
                                                        const T* __restrict__ w,
                                                        const T* __restrict__ bias, int64_t m,
                                                        int n, int k, Acc* __restrict__ c) {
  AllowNextGridToStart();  // the recurrence waits for this whole grid before reading c
  __shared__ Acc a_tile[kTileK][kTileM + 1];
  __shared__ Acc w_tile[kTileK][kTileN];
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;  // 4x4 outputs per thread
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTileM;
  const int col0 = blockIdx.x * kTileN;
  const KSlice slice(k, kTileK);
  Acc acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = Acc(0);
  }
  // The next K tile's elements are loaded into registers while this one is
  // multiplied (one global round trip per K tile was the whole cost).
  Acc a_next[4], w_next[4];
  auto load = [&](int k0) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int e = tid + l * 256;  // 1024 elements per tile
      const int ar = e / kTileK, ak = e % kTileK;
      const int64_t grow = row0 + ar;
      const int gk = k0 + ak;
      a_next[l] = (grow < m && gk < slice.end) ? ToAcc<Acc>(a[grow * k + gk]) : Acc(0);
      const int wk = e / kTileN, wc = e % kTileN;
      const int gwk = k0 + wk, gc = col0 + wc;
      w_next[l] = (gwk < slice.end && gc < n) ? ToAcc<Acc>(w[static_cast<int64_t>(gwk) * n + gc])
                                              : Acc(0);
    }
  };
  if (slice.begin < slice.end) load(slice.begin);
  for (int k0 = slice.begin; k0 < slice.end; k0 += kTileK) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int e = tid + l * 256;
      a_tile[e % kTileK][e / kTileK] = a_next[l];
      w_tile[e / kTileN][e % kTileN] = w_next[l];
    }
    __syncthreads();
    if (k0 + kTileK < slice.end) load(k0 + kTileK);
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      Acc av[4], wv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = a_tile[kk][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; ++j) wv[j] = w_tile[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * wv[j];
      }
    }
    __syncthreads();
  }
  if constexpr (std::is_same<Acc, float>::value) {
    if (gridDim.z > 1) {
      __shared__ float partial[kTileM * (kTileN + 1)];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) partial[(ty * 4 + i) * (kTileN + 1) + tx + 16 * j] = acc[i][j];
      }
      StoreSplitKTile(partial, kTileM, kTileN, kTileN + 1, row0, col0, m, n, bias, c);
      return;
    }
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t row = row0 + ty * 4 + i;
    if (row >= m) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = col0 + tx + 16 * j;
      if (col >= n) continue;
      const Acc b = bias ? ToAcc<Acc>(bias[col]) : Acc(0);
      c[row * n + col] = acc[i][j] + b;
    }
  }
}

// fp32-accumulating projection for the large shapes: 128x128 tile, 8x8 outputs
// per thread (two 4-wide column halves 64 apart so the B reads of a warp are
// contiguous), K tile 8. The element loads convert T -> float once into shared
// memory; any M, N, K (bounds-checked, zero-filled).
constexpr int kBigTile = 128, kBigTileK = 8;

template <typename T>
__global__ void __launch_bounds__(256, 2) ProjectionKernelBig(const T* __restrict__ a,
                                                           const T* __restrict__ w,
                                                           const T* __restrict__ bias, int64_t m,
                                                           int n, int k, float* __restrict__ c) {
  AllowNextGridToStart();  // the recurrence waits for this whole grid before reading c
  __shared__ __align__(16) float a_tile[kBigTileK][kBigTile];
  __shared__ __align__(16) float w_tile[kBigTileK][kBigTile];
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kBigTile;
  const int col0 = blockIdx.x * kBigTile;
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;
  }
  // Loader mapping: A tile 128 rows x 8 k (each thread: one row, 4 k);
  // W tile 8 k x 128 cols (each thread: one k, 4 consecutive... strided cols).
  const int a_row = tid / 2, a_k = (tid % 2) * 4;
  const int w_k = tid / 32, w_col = tid % 32;
  // The next K tile is loaded into registers while this one is multiplied.
  float a_next[4], w_next[4];
  auto load = [&](int k0) {
    const int64_t grow = row0 + a_row;
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int gk = k0 + a_k + l;
      a_next[l] = (grow < m && gk < k) ? ToAcc<float>(a[grow * k + gk]) : 0.0f;
    }
    const int gwk = k0 + w_k;
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int gc = col0 + w_col + 32 * l;
      w_next[l] = (gwk < k && gc < n) ? ToAcc<float>(w[static_cast<int64_t>(gwk) * n + gc]) : 0.0f;
    }
  };
  if (k > 0) load(0);
  for (int k0 = 0; k0 < k; k0 += kBigTileK) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      a_tile[a_k + l][a_row] = a_next[l];
      w_tile[w_k][w_col + 32 * l] = w_next[l];
    }
    __syncthreads();
    if (k0 + kBigTileK < k) load(k0 + kBigTileK);
#pragma unroll
    for (int kk = 0; kk < kBigTileK; ++kk) {
      const float4 a0 = *reinterpret_cast<const float4*>(&a_tile[kk][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&a_tile[kk][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&w_tile[kk][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&w_tile[kk][64 + tx * 4]);
      const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i) {
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t row = row0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
    if (row >= m) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int col = col0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
      if (col >= n) continue;
      c[row * n + col] = acc[i][j] + (bias ? ToAcc<float>(bias[col]) : 0.0f);
    }
  }
}

// fp16/bf16 projection on the tensor cores (mma.sync m16n8k16, fp32
// accumulation; the products of 16-bit inputs are exact in fp32, so this is as
// accurate as the FFMA kernel). Tile (32 RI) x 128, K tile 32, 8 warps of
// (16 RI) x 32: RI = 4 for big products, 2 (64-row tiles) where 128-row tiles
// leave SMs idle. The W tile is stored transposed ([n][k]) so that B fragments
// are 32-bit loads.
constexpr int kMmaTile = 128, kMmaTileK = 32, kMmaPitch = kMmaTileK + 8;

template <typename T, int RI>
__global__ void __launch_bounds__(256) ProjectionKernelMma(const T* __restrict__ a,
                                                           const T* __restrict__ w,
                                                           const T* __restrict__ bias, int64_t m,
                                                           int n, int k, float* __restrict__ c) {
  AllowNextGridToStart();  // the recurrence waits for this whole grid before reading c
  constexpr int kRows = 32 * RI;
  __shared__ __align__(16) T a_tile[kRows][kMmaPitch];     // [row][k]
  __shared__ __align__(16) T w_tile[kMmaTile][kMmaPitch];  // [col][k]
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int group = lane >> 2, quad = lane & 3;
  const int warp_row = (warp / 4) * 16 * RI, warp_col = (warp % 4) * 32;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kRows;
  const int col0 = blockIdx.x * kMmaTile;
  const T zero = FromAcc<T>(0.0f);
  const KSlice slice(k, kMmaTileK);
  float acc[RI][4][4];
#pragma unroll
  for (int i = 0; i < RI; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;
    }
  }
  for (int k0 = slice.begin; k0 < slice.end; k0 += kMmaTileK) {
#pragma unroll 4
    for (int e = tid; e < kRows * kMmaTileK; e += 256) {
      const int r = e / kMmaTileK, kk = e % kMmaTileK;  // A: consecutive threads along k
      const int64_t grow = row0 + r;
      const int gk = k0 + kk;
      a_tile[r][kk] = (grow < m && gk < slice.end) ? a[grow * k + gk] : zero;
    }
#pragma unroll 4
    for (int e = tid; e < kMmaTile * kMmaTileK; e += 256) {
      const int wk = e / kMmaTile, wc = e % kMmaTile;  // W: consecutive threads along n
      const int gwk = k0 + wk, gc = col0 + wc;
      w_tile[wc][wk] = (gwk < slice.end && gc < n) ? w[static_cast<int64_t>(gwk) * n + gc] : zero;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kMmaTileK; kk += 16) {
      uint32_t af[RI][4];
#pragma unroll
      for (int i = 0; i < RI; ++i) {
        const T* base = &a_tile[warp_row + i * 16 + group][kk + quad * 2];
        af[i][0] = *reinterpret_cast<const uint32_t*>(base);
        af[i][1] = *reinterpret_cast<const uint32_t*>(base + 8 * kMmaPitch);
        af[i][2] = *reinterpret_cast<const uint32_t*>(base + 8);
        af[i][3] = *reinterpret_cast<const uint32_t*>(base + 8 * kMmaPitch + 8);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const T* base = &w_tile[warp_col + j * 8 + group][kk + quad * 2];
        const uint32_t b0 = *reinterpret_cast<const uint32_t*>(base);
        const uint32_t b1 = *reinterpret_cast<const uint32_t*>(base + 8);
#pragma unroll
        for (int i = 0; i < RI; ++i) Mma16816<T>(acc[i][j], af[i], b0, b1);
      }
    }
    __syncthreads();
  }
  if constexpr (RI == 2) {  // split K: 64-row tiles only (the partial tile's 33 KB)
    if (gridDim.z > 1) {
      __shared__ float partial[kRows * (kMmaTile + 1)];
#pragma unroll
      for (int i = 0; i < RI; ++i) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {
#pragma unroll
          for (int j = 0; j < 4; ++j) {
#pragma unroll
            for (int q = 0; q < 2; ++q) {
              partial[(warp_row + i * 16 + group + half * 8) * (kMmaTile + 1) + warp_col + j * 8 +
                      quad * 2 + q] = acc[i][j][half * 2 + q];
            }
          }
        }
      }
      StoreSplitKTile(partial, kRows, kMmaTile, kMmaTile + 1, row0, col0, m, n, bias, c);
      return;
    }
  }
#pragma unroll
  for (int i = 0; i < RI; ++i) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t row = row0 + warp_row + i * 16 + group + half * 8;
      if (row >= m) continue;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const int col = col0 + warp_col + j * 8 + quad * 2 + q;
          if (col >= n) continue;
          c[row * n + col] = acc[i][j][half * 2 + q] + (bias ? ToAcc<float>(bias[col]) : 0.0f);
        }
      }
    }
  }
}

// Projection for big products on the tensor cores, pipelined: 128x128 tiles, K
// tiles of 64 bytes per row, 16-byte cp.async copies into a double buffer (the
// next K tile lands while this one is multiplied), 8 warps of 64x32.
// fp16/bf16: mma m16n8k16, fragments through ldmatrix (W stays [k][n] in
// shared memory and is read with .trans); ProjectionKernelMma's 2-byte loads,
// transposed stores and single buffer made the F = 256 calls slow (H100,
// B = 32, T = 512, H = 128: 0.513 -> 0.445 ms per call). fp32 (where the
// caller asks for it): 3xTF32, each operand split into a TF32 part and a TF32
// remainder, big*big + big*small + small*big with fp32 accumulation (~1e-6
// relative, where one TF32 product gives ~3e-4), m16n8k8; the FFMA tile is
// bound by 33.5 TFMA/s (B = 32, T = 512, F = 256, H = 32: 0.159 -> 0.149 ms).
// Needs whole 16-byte pieces: k % 8 == 0, n % 8 == 0 (also what the float2
// stores of column pairs assume), 16-byte aligned x and kernel
// (ChooseRnnKernel's ProjectionChoice::pipelined).
constexpr int kPipeTileM = 128, kPipeTileN = 128, kPipeRowBytes = 64;

template <typename T>
struct PipeTile {
  static constexpr int kK = kPipeRowBytes / sizeof(T);  // K tile: 32 halves or 16 floats
  static constexpr int kPad = 16 / sizeof(T);           // one 16-byte piece
  // A rows of 80 bytes: the 8 rows of an ldmatrix hit distinct banks. W rows of
  // 128 + kPad elements: the same for .trans (16-bit), and for fp32's scalar
  // B loads (k rows q = 0..3 start 8 banks apart).
  static constexpr int kAPitch = kK + kPad;
  static constexpr int kWPitch = kPipeTileN + kPad;
  static constexpr int kWPieces = kPipeTileN * sizeof(T) / 16;  // 16-byte pieces per W row
};

// fp32 holds both operands' splits: capped at 128 registers (two blocks per
// SM) it spilled in the K loop, so one block per SM with up to 255.
template <typename T>
__global__ void __launch_bounds__(256, std::is_same<T, float>::value ? 1 : 2)
    ProjectionKernelPipelined(const T* __restrict__ a, const T* __restrict__ w,
                              const T* __restrict__ bias, int64_t m, int n, int k,
                              float* __restrict__ c) {
  AllowNextGridToStart();  // the recurrence waits for this whole grid before reading c
  using Tile = PipeTile<T>;
  constexpr int kK = Tile::kK;
  constexpr int kPerPiece = 16 / sizeof(T);
  __shared__ __align__(16) T a_s[2][kPipeTileM][Tile::kAPitch];  // [stage][row][k]
  __shared__ __align__(16) T w_s[2][kK][Tile::kWPitch];          // [stage][k][col]
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int group = lane >> 2, quad = lane & 3;
  const int warp_row = (warp / 4) * 64, warp_col = (warp % 4) * 32;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kPipeTileM;
  const int col0 = blockIdx.x * kPipeTileN;

  // Each thread copies 2 of the A tile's 512 16-byte pieces (128 rows x 4) and
  // 2 of W's (kK rows x kWPieces); pieces outside the matrices are zero-filled.
  static_assert(kPipeTileM * 4 == 512 && kK * Tile::kWPieces == 512, "2 + 2 pieces per thread");
  auto load_tile = [&](int k0, int stage) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int e = tid + i * 256;
      const int r = e / 4, kc = (e % 4) * kPerPiece;
      const bool in_a = row0 + r < m && k0 + kc < k;
      CopyAsync16(&a_s[stage][r][kc], in_a ? a + (row0 + r) * k + k0 + kc : a, in_a ? 16 : 0);
      const int kr = e / Tile::kWPieces, nc = (e % Tile::kWPieces) * kPerPiece;
      const bool in_w = k0 + kr < k && col0 + nc < n;
      CopyAsync16(&w_s[stage][kr][nc], in_w ? w + static_cast<int64_t>(k0 + kr) * n + col0 + nc : w,
                  in_w ? 16 : 0);
    }
  };

  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;
    }
  }
  const int k_tiles = (k + kK - 1) / kK;
  load_tile(0, 0);
  CopyAsyncCommit();
  for (int kt = 0; kt < k_tiles; ++kt) {
    const int stage = kt & 1;
    // The other stage was last read in iteration kt - 1, behind its barrier.
    if (kt + 1 < k_tiles) load_tile((kt + 1) * kK, stage ^ 1);
    CopyAsyncCommit();  // possibly empty: the wait below then still means tile kt
    CopyAsyncWait<1>();
    __syncthreads();
    if constexpr (std::is_same<T, float>::value) {
#pragma unroll
      for (int kk = 0; kk < kK; kk += 8) {
        // B fragments (k8 x n8): b0 = W[k = quad][n = group], b1 = W[quad + 4][group].
        uint32_t b_big[4][2], b_small[4][2];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const int col = warp_col + j * 8 + group;
          SplitTf32(w_s[stage][kk + quad][col], &b_big[j][0], &b_small[j][0]);
          SplitTf32(w_s[stage][kk + quad + 4][col], &b_big[j][1], &b_small[j][1]);
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          // A fragment (m16 x k8) as 4 8x8 b16 matrices = 8 rows x 4 floats each:
          // (rows 0-7, k 0-3), (rows 8-15, k 0-3), (rows 0-7, k 4-7), (rows 8-15, k 4-7).
          const int matrix = lane / 8;
          uint32_t raw[4], a_big[4], a_small[4];
          LoadMatrixX4(SharedAddress(&a_s[stage][warp_row + i * 16 + (matrix & 1) * 8 + lane % 8]
                                          [kk + (matrix >> 1) * 4]),
                       raw);
#pragma unroll
          for (int q = 0; q < 4; ++q) SplitTf32(__uint_as_float(raw[q]), &a_big[q], &a_small[q]);
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            MmaTf32(acc[i][j], a_small, b_big[j][0], b_big[j][1]);
            MmaTf32(acc[i][j], a_big, b_small[j][0], b_small[j][1]);
            MmaTf32(acc[i][j], a_big, b_big[j][0], b_big[j][1]);
          }
        }
      }
    } else {
#pragma unroll
      for (int kk = 0; kk < kK; kk += 16) {
        // A fragments (m16 x k16): lanes 0-15 address rows, lanes 16-31 the k + 8 half.
        uint32_t af[4][4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          LoadMatrixX4(
              SharedAddress(&a_s[stage][warp_row + i * 16 + lane % 16][kk + lane / 16 * 8]), af[i]);
        }
        // B fragments of two n8 tiles per ldmatrix: matrices (k lo, n), (k hi, n),
        // (k lo, n + 8), (k hi, n + 8).
        uint32_t bf[4][2];
#pragma unroll
        for (int jp = 0; jp < 2; ++jp) {
          const int matrix = lane / 8;
          uint32_t r[4];
          LoadMatrixX4Trans(SharedAddress(&w_s[stage][kk + (matrix & 1) * 8 + lane % 8]
                                              [warp_col + jp * 16 + (matrix >> 1) * 8]),
                            r);
          bf[2 * jp][0] = r[0];
          bf[2 * jp][1] = r[1];
          bf[2 * jp + 1][0] = r[2];
          bf[2 * jp + 1][1] = r[3];
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
          for (int j = 0; j < 4; ++j) Mma16816<T>(acc[i][j], af[i], bf[j][0], bf[j][1]);
        }
      }
    }
    __syncthreads();  // this stage is refilled in iteration kt + 1
  }

  // Both MMA shapes leave rows group / group + 8 and columns 2 quad, 2 quad + 1
  // of each 16 x 8 tile in a thread.
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int col = col0 + warp_col + j * 8 + quad * 2;  // even, n % 8 == 0: col + 1 < n too
    if (col >= n) continue;
    const float b0 = bias ? ToAcc<float>(bias[col]) : 0.0f;
    const float b1 = bias ? ToAcc<float>(bias[col + 1]) : 0.0f;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int64_t row = row0 + warp_row + i * 16 + group + half * 8;
        if (row >= m) continue;
        *reinterpret_cast<float2*>(c + row * n + col) =
            make_float2(acc[i][j][2 * half] + b0, acc[i][j][2 * half + 1] + b1);
      }
    }
  }
}

// xproj = x @ kernel + bias over all rows (chunked: grid y is at most 65535).
// Small products (fewer 128x128 tiles than kSmallGridBlocks) take smaller
// tiles: at B = 1, T = 512, N = 128 the big FFMA tile gave 4 blocks and the
// projection cost more than the recurrence (F = 256: +30 us). fp16/bf16 always
// run on the tensor cores (the 64x64 FFMA tile cost ~15 us at B*T = 800,
// F = 256, N = 1024). Small tiles still left most SMs idle, each block walking
// K one global round trip per K tile (B = 1, T = 512, F = 256: 16 blocks,
// ~10 us): on sm_90+ (clusters = true) K is split over a cluster of up to
// kMaxKSplit blocks until about two blocks per SM work.
constexpr int64_t kSmallGridBlocks = 64;
// The pipelined fp16/bf16 tile already pays from half that (run 35, H100,
// F = 256: B = 8 T = 100 H = 256 0.142 -> 0.130 ms, B = 32 T = 10 H = 512
// 0.065 -> 0.051, B = 1 T = 512 H = 256 0.381 -> 0.368).
constexpr int64_t kPipelinedMinBlocks = 32;
constexpr int kMaxKSplit = 8;

// Blocks of a K-split cluster for `tiles` output tiles: a power of 2 that keeps
// the grid within two blocks per SM (both resident: <= 48 KB of shared memory
// and 128 registers per thread) and at least one K tile per block.
int ProjectionKSplit(int64_t tiles, int k, int tile_k, int num_sms) {
  const int k_tiles = (k + tile_k - 1) / tile_k;
  int split = 1;
  for (int next = 2; next <= kMaxKSplit && tiles * next <= 2 * num_sms && next <= k_tiles;
       next *= 2) {
    split = next;
  }
  return split;
}

template <typename Kernel, typename T, typename Acc>
cudaError_t LaunchProjectionTiles(Kernel kernel, dim3 grid, int split, const T* a, const T* w,
                                  const T* bias, int64_t m, int n, int k, Acc* c,
                                  cudaStream_t stream) {
  if (split == 1) {
    kernel<<<grid, 256, 0, stream>>>(a, w, bias, m, n, k, c);
    return cudaGetLastError();
  }
  const KernelLaunch launch(dim3(grid.x, grid.y, split), dim3(256), 0, dim3(1, 1, split), stream,
                            /*overlap_previous=*/false);
  return cudaLaunchKernelEx(&launch.config, kernel, a, w, bias, m, n, k, c);
}

// choice.pipelined: big products on the pipelined tensor-core tile (the rows
// are whole 16-byte pieces; fp32 only with 3xTF32, float64 never); false (also
// TFTRT_MASKING_RNN_NO_PIPELINED_PROJECTION=1): the older tiles.
template <typename T, typename Acc>
cudaError_t LaunchProjectionTyped(const T* x, const T* kernel, const T* bias, int64_t rows, int n,
                                  int k, Acc* xproj, int num_sms, const ProjectionChoice& choice,
                                  cudaStream_t stream) {
  constexpr bool kTensorCores =
      std::is_same<T, __half>::value || std::is_same<T, __nv_bfloat16>::value;
  static_assert(!kTensorCores || std::is_same<Acc, float>::value, "16-bit types accumulate in fp32");
  const bool clusters = choice.k_split_clusters;
  const bool pipelined = choice.pipelined && std::is_same<Acc, float>::value;
  const int64_t big_blocks = ((n + kBigTile - 1) / kBigTile) * ((rows + kBigTile - 1) / kBigTile);
  const int64_t min_big_blocks =
      pipelined && kTensorCores ? kPipelinedMinBlocks : kSmallGridBlocks;
  const bool big = std::is_same<Acc, float>::value && big_blocks >= min_big_blocks;
  static_assert(kMmaTile == kBigTile && kPipeTileM == kBigTile && kPipeTileN == kBigTile,
                "128-row tiles of the big kernels");
  const int tile_m = big ? kBigTile : (kTensorCores ? kMmaTile / 2 : kTileM);
  const int tile_n = big || kTensorCores ? kBigTile : kTileN;
  const int64_t chunk_rows = int64_t{65535} * tile_m;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
    const int64_t m = std::min(chunk_rows, rows - r0);
    const dim3 grid(static_cast<unsigned>((n + tile_n - 1) / tile_n),
                    static_cast<unsigned>((m + tile_m - 1) / tile_m));
    const int split = (clusters && !big && std::is_same<Acc, float>::value)
                          ? ProjectionKSplit(int64_t{grid.x} * grid.y, k,
                                             kTensorCores ? kMmaTileK : kTileK, num_sms)
                          : 1;
    const T* a = x + r0 * k;
    Acc* c = xproj + r0 * n;
    cudaError_t error = cudaSuccess;
    if constexpr (kTensorCores) {
      if (big && pipelined) {
        error = LaunchProjectionTiles(ProjectionKernelPipelined<T>, grid, 1, a, kernel, bias, m, n,
                                      k, c, stream);
      } else if (big) {
        error = LaunchProjectionTiles(ProjectionKernelMma<T, 4>, grid, 1, a, kernel, bias, m, n, k,
                                      c, stream);
      } else {
        error = LaunchProjectionTiles(ProjectionKernelMma<T, 2>, grid, split, a, kernel, bias, m,
                                      n, k, c, stream);
      }
    } else if (!big) {
      error = LaunchProjectionTiles(ProjectionKernel<T, Acc>, grid, split, a, kernel, bias, m, n, k,
                                    c, stream);
    } else if constexpr (std::is_same<T, float>::value) {
      error = pipelined ? LaunchProjectionTiles(ProjectionKernelPipelined<float>, grid, 1, a,
                                                kernel, bias, m, n, k, c, stream)
                        : LaunchProjectionTiles(ProjectionKernelBig<float>, grid, 1, a, kernel,
                                                bias, m, n, k, c, stream);
    }
    if (error != cudaSuccess) return error;
  }
  return cudaSuccess;
}

}  // namespace

cudaError_t LaunchProjection(const float* x, const float* kernel, const float* bias, int64_t rows,
                             int n, int k, float* xproj, int num_sms,
                             const ProjectionChoice& choice, cudaStream_t stream) {
  return LaunchProjectionTyped(x, kernel, bias, rows, n, k, xproj, num_sms, choice, stream);
}

cudaError_t LaunchProjection(const __half* x, const __half* kernel, const __half* bias,
                             int64_t rows, int n, int k, float* xproj, int num_sms,
                             const ProjectionChoice& choice, cudaStream_t stream) {
  return LaunchProjectionTyped(x, kernel, bias, rows, n, k, xproj, num_sms, choice, stream);
}

cudaError_t LaunchProjection(const __nv_bfloat16* x, const __nv_bfloat16* kernel,
                             const __nv_bfloat16* bias, int64_t rows, int n, int k, float* xproj,
                             int num_sms, const ProjectionChoice& choice, cudaStream_t stream) {
  return LaunchProjectionTyped(x, kernel, bias, rows, n, k, xproj, num_sms, choice, stream);
}

cudaError_t LaunchProjection(const double* x, const double* kernel, const double* bias,
                             int64_t rows, int n, int k, double* xproj, int num_sms,
                             const ProjectionChoice& choice, cudaStream_t stream) {
  return LaunchProjectionTyped(x, kernel, bias, rows, n, k, xproj, num_sms, choice, stream);
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
