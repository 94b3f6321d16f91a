// GPU gradient of the masked recurrences: MaskedRnnGpuGradWorkspaceBytes and
// LaunchMaskedRnnGrad (masked_rnn_grad.h has the carry rules).
//
// 1. Recompute the forward, keeping per (row, step) the state before the step
//    (h, and c for LSTM), the gate pre-activations (cell_grad.h's inputs: TF's
//    derivatives at the kinks depend on them) and one more
//    value per unit (LSTM: the new c; GRU reset_after: h @ U_h + b_rec_h, which
//    dr needs; GRU reset_after=false: r * h, the h gate's recurrent input).
// 2. Backward, one step at a time from the last: an element-wise kernel turns
//    the incoming gradients into the gate pre-activation gradients dG of that
//    step (0 for masked pairs) and the element-wise part of d(state_prev); one
//    product d(h_prev) += dG_rec @ U^T (GRU reset_after=false: two, the h gate's
//    goes through r).
// Where the forward is faster (FastRecomputeApplies: float32 and bfloat16 up to
// 128 units, float16 up to 512) the recompute runs on the forward's own kernels
// (FastRecompute: the forward's h of every step, then h_prev @ U of all pairs as
// one product, then the cells in one element-wise pass over the steps; the
// forward's input projection is the gradient's): those run a step in ~1 us
// where the unit-slice recompute needs ~4-5.
// Steps 1 and 2 each run as one cooperative unit-slice kernel (fp32
// arithmetic, not GRU reset_after=false: the recurrent kernel's slices in
// shared memory, one barrier per step; see "Unit-slice kernels" below), or,
// where that plan does not fit, as one split-K persistent cooperative kernel
// (two grid barriers per step; B x U <= 32768, not GRU reset_after=false), or
// as one launch per product and element-wise step.
// 3. The weight and input gradients as products over all (row, step) pairs:
//    d_kernel = X^T dG, d_recurrent_kernel = Hprev^T dG_rec, d_bias = column sums,
//    d_x = dG W^T.
// Every product is one strided GEMM kernel (fp32 accumulation, double for
// float64): the products over all pairs on tensor-core tiles (TF32, fp32
// operands split in two: fp32-level accuracy) on sm_80+, the per-step ones, the
// column sums, tiny products and float64 on FFMA tiles; small products split K
// over blocks and sum the partial tiles in a fixed order, so the result is
// deterministic (no atomics anywhere).
// Rows of the per-step buffers are x's rows (b * T + t), so the products over
// all pairs read them as plain matrices.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/rnn/cell_grad.h"
#include "kernels/rnn/cell_math.h"
#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_grad.h"
#include "kernels/rnn/masked_rnn_workspace.h"
#include "kernels/rnn/rnn_device.cuh"
#include "kernels/rnn/rnn_grad_plans.h"
#include "kernels/rnn/rnn_kernel_choice.h"

namespace tftrt_masking {
namespace rnn_grad_gpu {
namespace {

using rnn_gpu::FromAcc;
using rnn_gpu::MaskAt;
using rnn_gpu::ToAcc;
using rnn_gpu::CopyAsync16;
using rnn_gpu::CopyAsyncCommit;
using rnn_gpu::CopyAsyncWait;
using rnn_gpu::AccumulateRow4x4;
using rnn_gpu::MmaTf32;
using rnn_gpu::SplitTf32;

constexpr size_t kAlign = 256;
size_t AlignUp(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// ---------------------------------------------------------------------------
// Strided GEMM: C[i, j] = sum_k A(i, k) B(k, j) (+ addend[i, j]) (+ bias[j]),
// A(i, k) = a[i * lda_i + k * lda_k] (a == nullptr: every element is 1, for
// column sums), B(k, j) = b[k * ldb_k + j * ldb_j], C row-major with ldc.
template <typename TA, typename TB, typename TC, typename Acc>
struct GemmArgs {
  const TA* a = nullptr;
  int64_t lda_i = 0, lda_k = 0;
  const TB* b = nullptr;
  int64_t ldb_k = 0, ldb_j = 0;
  TC* c = nullptr;
  int64_t ldc = 0;
  const Acc* addend = nullptr;  // [m, ldc] like c (may be c itself), or nullptr
  const TB* bias = nullptr;     // [n] or nullptr
  int64_t m = 0, n = 0, k = 0;
};

constexpr int kGemmTileK = 16, kGemmThreads = 256;
constexpr int kMaxSplits = 64;

// Tile of one product: 16 RM rows x 16 CN columns, RM x CN outputs per thread.
// Few rows (the per-step products over the batch): 16 x 64; big products
// (>= 2^30 multiply-adds): 128 x 128; else 64 x 64. The tensor-core tiles
// (tc) of big products: 128 x 128 as well, else 64 x 64.
struct GemmTiling {
  bool tc;
  int rm, cn;
  int tile_m() const { return tc ? 32 * rm : 16 * rm; }
  int tile_n() const { return tc ? 32 * cn : 16 * cn; }
};
GemmTiling GemmTilingOf(int64_t m, int64_t n, int64_t k, bool tc) {
  const bool big = m >= 128 && n >= 128 && m * n * k >= (int64_t{1} << 30);
  if (tc) return big ? GemmTiling{true, 4, 4} : GemmTiling{true, 2, 2};
  if (m <= 16) return {false, 1, 4};
  if (big) return {false, 8, 8};
  return {false, 4, 4};
}

// K slices: enough blocks for the GPU (about 256) where the tiles are few,
// each slice at least 256 deep. A function of the shape only, so the
// workspace size and the summation order do not depend on the device.
int GemmSplits(int64_t m, int64_t n, int64_t k, bool tc) {
  const GemmTiling tiling = GemmTilingOf(m, n, k, tc);
  const int64_t tile_m = tiling.tile_m(), tile_n = tiling.tile_n();
  const int64_t tiles = (m + tile_m - 1) / tile_m * ((n + tile_n - 1) / tile_n);
  if (tiles >= 128 || tiles == 0) return 1;
  const int64_t by_tiles = (256 + tiles - 1) / tiles;
  const int64_t by_depth = std::max<int64_t>(1, k / 256);
  return static_cast<int>(std::min<int64_t>({by_tiles, by_depth, kMaxSplits}));
}

// The per-step products inside the persistent kernels: 16 x 64 tiles, K split
// until about 256 work items (each slice at least 128 deep), at most 16 slices.
constexpr int kStepTileM = 16, kStepTileN = 64;
int StepSplits(int64_t m, int64_t n, int64_t k) {
  const int64_t tiles = (m + kStepTileM - 1) / kStepTileM * ((n + kStepTileN - 1) / kStepTileN);
  if (tiles == 0) return 1;
  const int64_t by_tiles = (256 + tiles - 1) / tiles;
  return static_cast<int>(std::min<int64_t>({by_tiles, std::max<int64_t>(1, k / 128), 16}));
}

// Accumulation-type elements of the split-K partial tiles of one product.
// Either tiling (the device decides which runs).
size_t GemmPartialElements(int64_t m, int64_t n, int64_t k) {
  const int splits = std::max(GemmSplits(m, n, k, false), GemmSplits(m, n, k, true));
  return splits > 1 ? static_cast<size_t>(splits) * m * n : 0;
}

// Shared memory of one tile.
template <typename Acc, int RM, int CN>
struct GemmTileSmem {
  Acc a[kGemmTileK][16 * RM + 1];
  Acc b[kGemmTileK][16 * CN + 1];
};

// K slice `slice` of `splits` (whole K tiles).
__device__ __forceinline__ void KSliceOf(int64_t k, int64_t slice, int64_t splits,
                                         int64_t* begin, int64_t* end) {
  const int64_t k_tiles = (k + kGemmTileK - 1) / kGemmTileK;
  const int64_t per_slice = (k_tiles + splits - 1) / splits * kGemmTileK;
  *begin = min(k, slice * per_slice);
  *end = min(k, *begin + per_slice);
}

// One output tile over K range [k_begin, k_end), by the whole block. With
// `partial` it stores the tile's sums as slice `slice` of the partial tiles
// ([splits][m][n]), else C = sums (+ addend) (+ bias).
template <typename TA, typename TB, typename TC, typename Acc, int RM, int CN>
__device__ __forceinline__ void GemmTile(const GemmArgs<TA, TB, TC, Acc>& p, int64_t row0,
                                         int64_t col0, int64_t k_begin, int64_t k_end,
                                         Acc* __restrict__ partial, int64_t slice,
                                         GemmTileSmem<Acc, RM, CN>& smem) {
  constexpr int kTileM = 16 * RM, kTileN = 16 * CN;
  auto& a_tile = smem.a;
  auto& b_tile = smem.b;
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;  // outputs: rows ty*RM + i, cols tx + 16 j
  // Consecutive threads along the unit-stride axis of each operand.
  const bool a_along_k = p.lda_k == 1;
  const bool b_along_j = p.ldb_j == 1 || p.ldb_k != 1;
  Acc acc[RM][CN];
#pragma unroll
  for (int i = 0; i < RM; ++i) {
#pragma unroll
    for (int j = 0; j < CN; ++j) acc[i][j] = Acc(0);
  }
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kGemmTileK) {
#pragma unroll
    for (int l = 0; l < RM; ++l) {
      const int e = tid + l * kGemmThreads;  // kTileM * 16 elements
      const int r = a_along_k ? e / kGemmTileK : e % kTileM;
      const int kk = a_along_k ? e % kGemmTileK : e / kTileM;
      const int64_t row = row0 + r, gk = k0 + kk;
      Acc v = Acc(0);
      if (row < p.m && gk < k_end) v = p.a ? ToAcc<Acc>(p.a[row * p.lda_i + gk * p.lda_k]) : Acc(1);
      a_tile[kk][r] = v;
    }
#pragma unroll
    for (int l = 0; l < CN; ++l) {
      const int e = tid + l * kGemmThreads;  // 16 * kTileN elements
      const int col = b_along_j ? e % kTileN : e / kGemmTileK;
      const int kk = b_along_j ? e / kTileN : e % kGemmTileK;
      const int64_t gc = col0 + col, gk = k0 + kk;
      b_tile[kk][col] =
          (gc < p.n && gk < k_end) ? ToAcc<Acc>(p.b[gk * p.ldb_k + gc * p.ldb_j]) : Acc(0);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kGemmTileK; ++kk) {
      Acc av[RM], bv[CN];
#pragma unroll
      for (int i = 0; i < RM; ++i) av[i] = a_tile[kk][ty * RM + i];
#pragma unroll
      for (int j = 0; j < CN; ++j) bv[j] = b_tile[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < RM; ++i) {
#pragma unroll
        for (int j = 0; j < CN; ++j) acc[i][j] += av[i] * bv[j];
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int64_t row = row0 + ty * RM + i;
    if (row >= p.m) continue;
#pragma unroll
    for (int j = 0; j < CN; ++j) {
      const int64_t col = col0 + tx + 16 * j;
      if (col >= p.n) continue;
      if (partial) {
        partial[(slice * p.m + row) * p.n + col] = acc[i][j];
      } else {
        Acc v = acc[i][j];
        if (p.addend) v += p.addend[row * p.ldc + col];
        if (p.bias) v += ToAcc<Acc>(p.bias[col]);
        p.c[row * p.ldc + col] = FromAcc<TC>(v);
      }
    }
  }
}

// One tile per block: blockIdx.x/y the tile, blockIdx.z the K slice.
template <typename TA, typename TB, typename TC, typename Acc, int RM, int CN>
__global__ void __launch_bounds__(kGemmThreads)
    StridedGemmKernel(const GemmArgs<TA, TB, TC, Acc> p, Acc* __restrict__ partial) {
  __shared__ GemmTileSmem<Acc, RM, CN> smem;
  int64_t k_begin, k_end;
  KSliceOf(p.k, blockIdx.z, gridDim.z, &k_begin, &k_end);
  GemmTile(p, int64_t{blockIdx.x} * 16 * RM, int64_t{blockIdx.y} * 16 * CN, k_begin, k_end,
           gridDim.z > 1 ? partial : nullptr, blockIdx.z, smem);
}

// Sums the split-K partial tiles in slice order, then addend and bias.
template <typename TA, typename TB, typename TC, typename Acc>
__global__ void SumSplitsKernel(const GemmArgs<TA, TB, TC, Acc> p, const Acc* __restrict__ partial,
                                int splits) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= p.m * p.n) return;
  const int64_t row = e / p.n, col = e % p.n;
  Acc v = Acc(0);
  for (int s = 0; s < splits; ++s) v += partial[s * p.m * p.n + e];
  if (p.addend) v += p.addend[row * p.ldc + col];
  if (p.bias) v += ToAcc<Acc>(p.bias[col]);
  p.c[row * p.ldc + col] = FromAcc<TC>(v);
}

// The same products on the tensor cores (fp32 accumulation, sm_80+): TF32
// m16n8k8 MMAs. An fp32 operand is split into TF32 big + small (SplitTf32);
// fp16/bf16 operands are exact in TF32. So 3 MMAs per k8 step where both
// operands are fp32 (big*big + big*small + small*big; the dropped small*small
// is ~2^-22 of the product: fp32-level, like the FFMA tile), 2 where one is
// 16-bit, 1 where both are. The K tiles go through shared memory as fp32,
// [k][row] and [k][col] with pitches of 8 mod 32 words (a warp's fragment
// reads hit 32 banks), double-buffered: the next K tile's elements are loaded
// into registers while this one is multiplied (any strides, so no cp.async).
// 8 warps as 2 x 4, each 16 MI rows x 8 NJ columns: tiles of 128 x 128
// (MI = NJ = 4) or 64 x 64 (2, 2).
constexpr int kTcTileK = 16;
static_assert(kTcTileK == kGemmTileK, "KSliceOf cuts K in whole tiles of both kernels");

template <int MI, int NJ>
struct TcTileSmem {
  static constexpr int kTileM = 32 * MI, kTileN = 32 * NJ;
  static constexpr int kAPitch = kTileM + 8, kBPitch = kTileN + 8;
  static_assert(kAPitch % 32 == 8 && kBPitch % 32 == 8, "conflict-free fragment reads");
  float a[2][kTcTileK][kAPitch];
  float b[2][kTcTileK][kBPitch];
};

// Whether an element type's values are exact in TF32 (fp16: 11 significant
// bits, bf16: 8; TF32 has 11 and fp32's exponent range).
template <typename T>
constexpr bool kExactInTf32 = std::is_same<T, __half>::value || std::is_same<T, __nv_bfloat16>::value;

// The TF32 parts of one fragment value: raw bits when exact (small = 0).
template <bool kSplit>
__device__ __forceinline__ void Tf32Parts(float v, uint32_t* big, uint32_t* small) {
  if constexpr (kSplit) {
    SplitTf32(v, big, small);
  } else {
    *big = __float_as_uint(v);
    *small = 0;
  }
}

template <typename TA, typename TB, typename TC, int MI, int NJ>
__global__ void __launch_bounds__(kGemmThreads)
    StridedGemmTcKernel(const GemmArgs<TA, TB, TC, float> p, float* __restrict__ partial) {
  using Smem = TcTileSmem<MI, NJ>;
  constexpr int kTileM = Smem::kTileM, kTileN = Smem::kTileN;
  constexpr int kALoads = kTileM * kTcTileK / kGemmThreads;  // elements per thread per K tile
  constexpr int kBLoads = kTileN * kTcTileK / kGemmThreads;
  constexpr bool kSplitA = !kExactInTf32<TA>, kSplitB = !kExactInTf32<TB>;
  __shared__ Smem s;
  int64_t k_begin, k_end;
  KSliceOf(p.k, blockIdx.z, gridDim.z, &k_begin, &k_end);
  const int64_t row0 = int64_t{blockIdx.x} * kTileM, col0 = int64_t{blockIdx.y} * kTileN;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int group = lane >> 2, quad = lane & 3;
  const int warp_row = (warp / 4) * 16 * MI, warp_col = (warp % 4) * 8 * NJ;
  // Consecutive threads along the unit-stride axis of each operand. Element l
  // of this thread's share of a K tile: A (row a_r + l a_dr, k a_k + l a_dk),
  // B (k b_k + l b_dk, column b_c + l b_dc); one pointer per operand, moved by
  // a fixed stride per element and per K tile.
  static_assert(kGemmThreads % kTileM == 0 && kGemmThreads % kTileN == 0, "whole rows of threads");
  const bool a_along_k = p.lda_k == 1;
  const bool b_along_j = p.ldb_j == 1 || p.ldb_k != 1;
  const int a_r = a_along_k ? tid / kTcTileK : tid % kTileM;
  const int a_k = a_along_k ? tid % kTcTileK : tid / kTileM;
  const int a_dr = a_along_k ? kGemmThreads / kTcTileK : 0;
  const int a_dk = a_along_k ? 0 : kGemmThreads / kTileM;
  const int b_c = b_along_j ? tid % kTileN : tid / kTcTileK;
  const int b_k = b_along_j ? tid / kTileN : tid % kTcTileK;
  const int b_dc = b_along_j ? 0 : kGemmThreads / kTcTileK;
  const int b_dk = b_along_j ? kGemmThreads / kTileN : 0;
  const TA* const a_at = p.a + (row0 + a_r) * p.lda_i + a_k * p.lda_k;
  const TB* const b_at = p.b + b_k * p.ldb_k + (col0 + b_c) * p.ldb_j;
  const int64_t a_step = a_dr * p.lda_i + a_dk * p.lda_k;
  const int64_t b_step = b_dk * p.ldb_k + b_dc * p.ldb_j;

  float a_next[kALoads], b_next[kBLoads];
  auto load = [&](int64_t k0) {
    const TA* a = a_at + k0 * p.lda_k;
    const TB* b = b_at + k0 * p.ldb_k;
#pragma unroll
    for (int l = 0; l < kALoads; ++l) {
      const bool in = row0 + a_r + l * a_dr < p.m && k0 + a_k + l * a_dk < k_end;
      a_next[l] = in ? ToAcc<float>(a[l * a_step]) : 0.0f;
    }
#pragma unroll
    for (int l = 0; l < kBLoads; ++l) {
      const bool in = col0 + b_c + l * b_dc < p.n && k0 + b_k + l * b_dk < k_end;
      b_next[l] = in ? ToAcc<float>(b[l * b_step]) : 0.0f;
    }
  };
  auto store = [&](int stage) {
#pragma unroll
    for (int l = 0; l < kALoads; ++l) s.a[stage][a_k + l * a_dk][a_r + l * a_dr] = a_next[l];
#pragma unroll
    for (int l = 0; l < kBLoads; ++l) s.b[stage][b_k + l * b_dk][b_c + l * b_dc] = b_next[l];
  };

  float acc[MI][NJ][4];
#pragma unroll
  for (int i = 0; i < MI; ++i) {
#pragma unroll
    for (int j = 0; j < NJ; ++j) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;
    }
  }
  const int64_t k_tiles = (k_end - k_begin + kTcTileK - 1) / kTcTileK;
  if (k_tiles > 0) {
    load(k_begin);
    store(0);
  }
  __syncthreads();
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    const int stage = static_cast<int>(kt & 1);
    const bool more = kt + 1 < k_tiles;
    if (more) load(k_begin + (kt + 1) * kTcTileK);  // lands while this tile is multiplied
    // Not unrolled: unrolled, ptxas spilled the 64 x 64 fp16 tile (sm_80, 64 registers).
#pragma unroll 1
    for (int ks = 0; ks < kTcTileK; ks += 8) {
      // Fragments (m16n8k8): lane 4 g + q holds A rows g, g + 8 at k q, q + 4
      // (a0 = (g, q), a1 = (g + 8, q), a2 = (g, q + 4), a3 = (g + 8, q + 4)) and
      // B column g at k q (b0), q + 4 (b1).
      uint32_t b_big[NJ][2], b_small[NJ][2];
#pragma unroll
      for (int j = 0; j < NJ; ++j) {
        const int col = warp_col + j * 8 + group;
        Tf32Parts<kSplitB>(s.b[stage][ks + quad][col], &b_big[j][0], &b_small[j][0]);
        Tf32Parts<kSplitB>(s.b[stage][ks + quad + 4][col], &b_big[j][1], &b_small[j][1]);
      }
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        const int row = warp_row + i * 16 + group;
        uint32_t a_big[4], a_small[4];
        Tf32Parts<kSplitA>(s.a[stage][ks + quad][row], &a_big[0], &a_small[0]);
        Tf32Parts<kSplitA>(s.a[stage][ks + quad][row + 8], &a_big[1], &a_small[1]);
        Tf32Parts<kSplitA>(s.a[stage][ks + quad + 4][row], &a_big[2], &a_small[2]);
        Tf32Parts<kSplitA>(s.a[stage][ks + quad + 4][row + 8], &a_big[3], &a_small[3]);
#pragma unroll
        for (int j = 0; j < NJ; ++j) {
          if constexpr (kSplitA) MmaTf32(acc[i][j], a_small, b_big[j][0], b_big[j][1]);
          if constexpr (kSplitB) MmaTf32(acc[i][j], a_big, b_small[j][0], b_small[j][1]);
          MmaTf32(acc[i][j], a_big, b_big[j][0], b_big[j][1]);
        }
      }
    }
    // The other stage was last read in iteration kt - 1, behind its barrier.
    if (more) store(stage ^ 1);
    __syncthreads();
  }

  // D rows g, g + 8 at columns 2 q, 2 q + 1 of each 16 x 8 tile.
  float* const slice_partial = gridDim.z > 1 ? partial + blockIdx.z * p.m * p.n : nullptr;
#pragma unroll
  for (int i = 0; i < MI; ++i) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t row = row0 + warp_row + i * 16 + group + half * 8;
      if (row >= p.m) continue;
#pragma unroll
      for (int j = 0; j < NJ; ++j) {
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const int64_t col = col0 + warp_col + j * 8 + quad * 2 + q;
          if (col >= p.n) continue;
          float v = acc[i][j][2 * half + q];
          if (slice_partial) {
            slice_partial[row * p.n + col] = v;
          } else {
            if (p.addend) v += p.addend[row * p.ldc + col];
            if (p.bias) v += ToAcc<float>(p.bias[col]);
            p.c[row * p.ldc + col] = FromAcc<TC>(v);
          }
        }
      }
    }
  }
}

// Products over all (row, step) pairs (tensor_cores: the caller's GPU is
// sm_80+) run on the tensor-core tiles where they have an A operand (not the
// column sums) and are not tiny: >= 2^20 multiply-adds, >= 16 rows and
// columns (below, the FFMA tile's one block per 64 x 64 outputs wastes less).
template <typename TA, typename TB, typename TC, typename Acc>
bool GemmOnTensorCores(const GemmArgs<TA, TB, TC, Acc>& p, bool tensor_cores) {
  return std::is_same<Acc, float>::value && tensor_cores && p.a != nullptr && p.m >= 16 &&
         p.n >= 16 && p.m * p.n * p.k >= (int64_t{1} << 20);
}

template <typename TA, typename TB, typename TC, typename Acc>
cudaError_t Gemm(const GemmArgs<TA, TB, TC, Acc>& p, Acc* partial, cudaStream_t stream,
                 bool tensor_cores = false) {
  if (p.m <= 0 || p.n <= 0) return cudaSuccess;
  const bool tc = GemmOnTensorCores(p, tensor_cores);
  const GemmTiling tiling = GemmTilingOf(p.m, p.n, p.k, tc);
  const int splits = GemmSplits(p.m, p.n, p.k, tc);
  const int tile_m = tiling.tile_m(), tile_n = tiling.tile_n();
  const dim3 grid(static_cast<unsigned>((p.m + tile_m - 1) / tile_m),
                  static_cast<unsigned>((p.n + tile_n - 1) / tile_n),
                  static_cast<unsigned>(splits));
  if (tc) {
    if constexpr (std::is_same<Acc, float>::value) {
      if (tiling.rm == 4) {
        StridedGemmTcKernel<TA, TB, TC, 4, 4><<<grid, kGemmThreads, 0, stream>>>(p, partial);
      } else {
        StridedGemmTcKernel<TA, TB, TC, 2, 2><<<grid, kGemmThreads, 0, stream>>>(p, partial);
      }
    }
  } else if (tiling.rm == 1) {
    StridedGemmKernel<TA, TB, TC, Acc, 1, 4><<<grid, kGemmThreads, 0, stream>>>(p, partial);
  } else if (tiling.rm == 4) {
    StridedGemmKernel<TA, TB, TC, Acc, 4, 4><<<grid, kGemmThreads, 0, stream>>>(p, partial);
  } else {
    StridedGemmKernel<TA, TB, TC, Acc, 8, 8><<<grid, kGemmThreads, 0, stream>>>(p, partial);
  }
  if (splits > 1) {
    const int64_t count = p.m * p.n;
    SumSplitsKernel<<<static_cast<unsigned>((count + 255) / 256), 256, 0, stream>>>(p, partial,
                                                                                    splits);
  }
  return cudaGetLastError();
}

// ---------------------------------------------------------------------------
// Workspace: per (row, step) buffers in x's row order, then per-row state.
struct GradLayout {
  size_t proj = 0;     // [B*T, N] x @ W + input bias; later dG (input side). The fast
                       // recompute: the forward's own projection, in its workspace.
  size_t gates = 0;    // [B*T, N] gate pre-activations
  size_t extra = 0;    // [B*T, U] LSTM c_new / GRU h@U_h+b (reset_after) or r*h
  size_t h_prev = 0;   // [B*T, U] h before the step
  size_t c_prev = 0;   // [B*T, U] LSTM c before the step
  size_t d_rec = 0;    // [B*T, N] GRU reset_after: dG of the recurrent side
  size_t rec = 0;      // [B, N] h @ U (+ recurrent bias) of one step
  size_t h = 0, c = 0;            // [B, U] state during the recompute
  size_t dh = 0, dc = 0, dy = 0;  // [B, U] carried gradients
  size_t d_rh = 0;                // [B, U] GRU reset_after=false: dG_h @ U_h^T
  size_t partial = 0;             // split-K partial tiles
  size_t rec_parts = 0;           // persistent kernels: [splits][B][N]
  size_t dh_parts = 0;            // and [splits][B][U]
  size_t exchange = 0;            // unit-slice kernels: [2][B][G*U padded to 4] fp32
  size_t counters = 0;            // and their barrier counters, [2][B] uint32
  // The recompute on the forward kernels (FastRecomputeFits): h after every
  // step ([B, T, U] in the forward's dtype, its carried outputs), the forward's
  // workspace, and where float16/bfloat16 runs a float32 forward
  // (FastRecomputeForwardDType) the forward's inputs in float32 (x, kernel,
  // recurrent_kernel, bias, initial h and c).
  size_t h_seq = 0;
  size_t last_kept = 0;  // [B, T] int32: the last kept step before each step (-1: none)
  size_t forward = 0;
  size_t inputs32 = 0;
  size_t total = 0;
};

// The recompute runs on the forward's own kernels (LaunchMaskedRnnWithOptions:
// its h of every step, then h_prev @ U for all pairs as one product and the
// cells in one element-wise pass) where the forward is faster than the
// unit-slice recompute (~4-5 us per step on the H200): float32 and bfloat16 up
// to 128 units (the row kernels, ~0.8 us per step; at 512 units the float32
// forward takes 0.57-2.1 ms at B 8-128, T 100, the unit-slice recompute
// 0.56-1.7), float16 up to 512 (its forward on the tensor cores: 0.17-0.39 ms
// at 512 units; above 512 not measured). bfloat16 above 128 units would run the
// same 16-bit forward, whose h_prev carries bf16's rounding (2^-8, fp16's 2^-11)
// into every gradient: not taken until the harness has measured it (path
// 'fast'). GRU reset_after=false (two products per step) keeps the
// step-by-step recompute; float64 has no unit-slice kernels.
// A function of the config and dtype only; LaunchTyped also needs the
// unit-slice backward. The workspace has room for it up to 512 units in every
// dtype but float64 (FastRecomputeFits), so that grad_fast_recompute can
// measure it where the rule does not take it.
bool FastRecomputeFits(const MaskedRnnConfig& config, DType dtype) {
  const bool gru_before = config.cell == RnnCell::kGru && !config.reset_after;
  return dtype != DType::kFloat64 && !gru_before && config.units <= 512 && config.time > 0 &&
         config.batch > 0;
}
bool FastRecomputeApplies(const MaskedRnnConfig& config, DType dtype) {
  return FastRecomputeFits(config, dtype) && (dtype == DType::kFloat16 || config.units <= 128);
}

// The dtype of the fast recompute's forward: float32 up to 128 units (float16/
// bfloat16 inputs converted: h keeps the fp32 state's bits, not the outputs'
// 16, and the float32 row kernels are as fast there), the tensors' own above
// (h_prev then holds the outputs' 16-bit h, which is what the 16-bit forward's
// own products read).
DType FastRecomputeForwardDType(const MaskedRnnConfig& config, DType dtype) {
  return config.units <= 128 ? DType::kFloat32 : dtype;
}

// The forward call the fast recompute makes: all steps' outputs, masked steps
// carrying the previous output (so a kept step's output is its new h).
MaskedRnnConfig FastRecomputeForward(const MaskedRnnConfig& config) {
  MaskedRnnConfig forward = config;
  forward.return_sequences = true;
  forward.zero_output_for_mask = false;
  return forward;
}

GradLayout Layout(const MaskedRnnConfig& config, DType dtype) {
  const size_t acc = dtype == DType::kFloat64 ? sizeof(double) : sizeof(float);
  const int64_t b = std::max<int64_t>(config.batch, 0), t = std::max<int64_t>(config.time, 0);
  const int64_t f = std::max<int64_t>(config.input_size, 0);
  const int64_t u = std::max<int64_t>(config.units, 0);
  const int64_t n = GateCount(config.cell) * u;
  const size_t pairs = static_cast<size_t>(b * t);
  const bool lstm = config.cell == RnnCell::kLstm;
  const bool gru_after = config.cell == RnnCell::kGru && config.reset_after;
  const bool gru_before = config.cell == RnnCell::kGru && !config.reset_after;
  GradLayout layout;
  size_t at = 0;
  auto take = [&](size_t* slot, size_t elements) {
    *slot = at;
    at += AlignUp(elements * acc);
  };
  const bool fast = FastRecomputeFits(config, dtype);
  const DType forward_dtype = FastRecomputeForwardDType(config, dtype);
  if (fast) {
    // The forward's workspace first: its input projection ([B*T, N] fp32 in
    // x's row order, x @ W + the input bias) is proj, so it is computed once.
    const MaskedRnnConfig forward = FastRecomputeForward(config);
    layout.forward = at;
    layout.proj = at + rnn_gpu::Layout(forward, forward_dtype).xproj;
    at += AlignUp(MaskedRnnGpuWorkspaceBytes(forward, forward_dtype));
  } else {
    take(&layout.proj, pairs * n);
  }
  take(&layout.gates, pairs * n);
  take(&layout.extra, (lstm || config.cell == RnnCell::kGru) ? pairs * u : 0);
  take(&layout.h_prev, pairs * u);
  take(&layout.c_prev, lstm ? pairs * u : 0);
  take(&layout.d_rec, gru_after ? pairs * n : 0);
  take(&layout.rec, static_cast<size_t>(b * n));
  take(&layout.h, static_cast<size_t>(b * u));
  take(&layout.c, static_cast<size_t>(b * u));
  take(&layout.dh, static_cast<size_t>(b * u));
  take(&layout.dc, static_cast<size_t>(b * u));
  take(&layout.dy, static_cast<size_t>(b * u));
  take(&layout.d_rh, gru_before ? static_cast<size_t>(b * u) : 0);
  // Every product LaunchTyped runs, with its (m, n, k).
  const int64_t shapes[][3] = {
      {b * t, n, f},  // input projection
      {b * t, n, u},  // the fast recompute's h_prev @ U
      {b, n, u},      // recompute step (GRU reset_after=false: 2U and U columns, fewer)
      {b, u, u},      // GRU reset_after=false: r*h @ U_h, d_rh
      {b, 2 * u, u},
      {b, u, n},      // backward step
      {b, u, 2 * u},
      {f, n, b * t},  // d_kernel
      {u, n, b * t},  // d_recurrent_kernel
      {u, 2 * u, b * t},
      {u, u, b * t},
      {1, n, b * t},  // d_bias
      {b * t, f, n},  // d_x
  };
  size_t partial = 0;
  for (const auto& s : shapes) partial = std::max(partial, GemmPartialElements(s[0], s[1], s[2]));
  take(&layout.partial, partial);
  // GRU reset_after=false (two products per step) has no persistent kernel.
  take(&layout.rec_parts, gru_before ? 0 : StepSplits(b, n, u) * static_cast<size_t>(b * n));
  take(&layout.dh_parts, gru_before ? 0 : StepSplits(b, u, n) * static_cast<size_t>(b * u));
  // The unit-slice kernels run in fp32 (acc == 4 bytes, like the counters').
  const bool slices = !gru_before && acc == sizeof(float);
  take(&layout.exchange, slices ? 2 * static_cast<size_t>(b) * ((n + 3) / 4 * 4) : 0);
  take(&layout.counters, slices ? 2 * static_cast<size_t>(b) : 0);
  take(&layout.h_seq, fast ? pairs * u : 0);  // acc: enough for the forward's dtype
  take(&layout.last_kept, fast ? pairs : 0);  // int32: acc's 4 bytes are enough
  const size_t bias = config.has_bias ? (gru_after ? 2 : 1) * n : 0;
  // Each array from a 16-byte boundary (the forward's tiles read x and kernel in 16-byte pieces).
  auto round4 = [](size_t count) { return (count + 3) / 4 * 4; };
  take(&layout.inputs32, fast && dtype != DType::kFloat32 && forward_dtype == DType::kFloat32
                             ? round4(pairs * f) + round4(f * n) + round4(u * n) + round4(bias) +
                                   2 * round4(static_cast<size_t>(b * u))
                             : 0);
  layout.total = at;
  return layout;
}

// ---------------------------------------------------------------------------
// Element-wise kernels: one thread per (batch row, unit).

template <typename T, typename Acc>
struct StepParams {
  const void* mask;
  bool mask_is_int32;
  const T* initial_h;
  const T* initial_c;
  const T* d_output;
  const T* d_final_h;
  const T* d_final_c;
  T* d_initial_h;
  T* d_initial_c;
  Acc* proj;    // forward: x @ W + b; backward: dG (input side)
  Acc* gates;   // pre-activations
  Acc* extra;
  Acc* h_prev;
  Acc* c_prev;
  Acc* d_rec;   // GRU reset_after: dG (recurrent side); else == proj
  Acc* rec;     // [B, N]
  Acc* h;
  Acc* c;
  Acc* dh;
  Acc* dc;
  Acc* dy;
  Acc* d_rh;
  // Persistent kernels: h @ U and dG @ U^T arrive as split-K partial sums
  // ([splits][B][N] / [splits][B][U]) that the element-wise step adds up in
  // slice order (with the recurrent bias); 0 splits: rec / dh hold them whole.
  Acc* rec_parts;
  int rec_splits;
  const T* rec_bias;
  Acc* dh_parts;
  int dh_splits;
  RnnCell cell;
  int gates_per_unit;  // GateCount(cell)
  Activation activation, recurrent_activation;
  bool reset_after, go_backwards, return_sequences, zero_output_for_mask;
  int64_t batch, time, units;
};

template <typename T, typename Acc>
__global__ void InitStateKernel(const StepParams<T, Acc> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  p.h[i] = p.initial_h ? ToAcc<Acc>(p.initial_h[i]) : Acc(0);
  p.c[i] = p.initial_c ? ToAcc<Acc>(p.initial_c[i]) : Acc(0);
}

// Recompute, one step: the cell (GRU reset_after=false: phase 1, z and r and
// r*h; phase 2 below), keeping the gate pre-activations and what else
// cell_grad.h's functions take.
template <typename T, typename Acc>
__device__ __forceinline__ Acc RecAt(const StepParams<T, Acc>& p, int64_t b, int64_t col) {
  const int64_t n = p.gates_per_unit * p.units;
  if (p.rec_splits == 0) return p.rec[b * n + col];
  Acc v = Acc(0);
  for (int s = 0; s < p.rec_splits; ++s) v += p.rec_parts[(s * p.batch + b) * n + col];
  return p.rec_bias ? v + ToAcc<Acc>(p.rec_bias[col]) : v;
}

// d(h) carried into the step: dh, plus the partial sums of dG @ U^T.
template <typename T, typename Acc>
__device__ __forceinline__ Acc DhAt(const StepParams<T, Acc>& p, int64_t i) {
  Acc v = p.dh[i];
  for (int s = 0; s < p.dh_splits; ++s) v += p.dh_parts[s * p.batch * p.units + i];
  return v;
}

// Recompute of one (row, unit) pair at one step, every cell but GRU
// reset_after=false: stores the gate pre-activations and what else cell_grad.h
// takes (LSTM: c before and after, GRU: mi_h); returns the new h and sets *c
// to the new c (LSTM), both before the mask is applied.
template <typename T, typename Acc>
__device__ __forceinline__ Acc RecomputeCell(const StepParams<T, Acc>& p, int64_t pair,
                                             int64_t u, const Acc x[4], const Acc r[4], Acc h,
                                             Acc* c) {
  const int64_t U = p.units;
  const int64_t n = p.gates_per_unit * U;
  Acc* z = p.gates + pair * n + u;
  const Activation act = p.activation, rec_act = p.recurrent_activation;
  switch (p.cell) {
    case RnnCell::kLstm: {
      Acc zz[4];
      for (int k = 0; k < 4; ++k) {
        zz[k] = x[k] + r[k];
        z[k * U] = zz[k];
      }
      const Acc c_new =
          Activate(rec_act, zz[1]) * *c + Activate(rec_act, zz[0]) * Activate(act, zz[2]);
      p.extra[pair * U + u] = c_new;
      p.c_prev[pair * U + u] = *c;
      *c = c_new;
      return Activate(rec_act, zz[3]) * Activate(act, c_new);
    }
    case RnnCell::kGru: {
      const Acc z_z = x[0] + r[0], z_r = x[1] + r[1];
      const Acc gr = Activate(rec_act, z_r);
      const Acc z_h = x[2] + gr * r[2];
      z[0] = z_z;
      z[U] = z_r;
      z[2 * U] = z_h;
      p.extra[pair * U + u] = r[2];  // mi_h, with the recurrent bias
      const Acc gz = Activate(rec_act, z_z);
      return gz * h + (Acc(1) - gz) * Activate(act, z_h);
    }
    case RnnCell::kSimpleRnn:
      z[0] = x[0] + r[0];
      return Activate(act, z[0]);
  }
  return h;
}

template <typename T, typename Acc>
__device__ __forceinline__ void ForwardStep(const StepParams<T, Acc>& p, int64_t tau, int64_t i) {
  const int64_t U = p.units, b = i / U, u = i % U;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t pair = b * p.time + t;
  const int64_t n = p.gates_per_unit * U;
  const Acc* xp = p.proj + pair * n + u;
  Acc x[4] = {Acc(0), Acc(0), Acc(0), Acc(0)}, r[4] = {Acc(0), Acc(0), Acc(0), Acc(0)};
  for (int k = 0; k < p.gates_per_unit; ++k) {
    x[k] = xp[k * U];
    r[k] = RecAt(p, b, k * U + u);
  }
  const Acc h = p.h[i];
  const bool keep = MaskAt(p.mask, p.mask_is_int32, pair);
  p.h_prev[pair * U + u] = h;
  if (p.cell == RnnCell::kGru && !p.reset_after) {  // phase 2 needs r*h of every unit first
    Acc* z = p.gates + pair * n + u;
    z[0] = x[0] + r[0];
    z[U] = x[1] + r[1];
    p.extra[pair * U + u] = Activate(p.recurrent_activation, z[U]) * h;
    return;
  }
  Acc c = p.c[i];
  const Acc h_new = RecomputeCell(p, pair, u, x, r, h, &c);
  if (keep) {
    p.h[i] = h_new;
    p.c[i] = c;
  }
}

template <typename T, typename Acc>
__global__ void ForwardStepKernel(const StepParams<T, Acc> p, int64_t tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < p.batch * p.units) ForwardStep(p, tau, i);
}

// GRU reset_after=false, phase 2: rec[:, 2U:] holds (r*h) @ U_h.
template <typename T, typename Acc>
__global__ void ForwardGruResetBeforeKernel(const StepParams<T, Acc> p, int64_t tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  const int64_t U = p.units, b = i / U, u = i % U;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t pair = b * p.time + t;
  const int64_t n = 3 * U;
  Acc* z = p.gates + pair * n + u;
  z[2 * U] = p.proj[pair * n + 2 * U + u] + p.rec[b * n + 2 * U + u];
  const Acc gz = Activate(p.recurrent_activation, z[0]), h = p.h[i];
  if (MaskAt(p.mask, p.mask_is_int32, pair)) {
    p.h[i] = gz * h + (Acc(1) - gz) * Activate(p.activation, z[2 * U]);
  }
}

// Fast recompute of float16/bfloat16: the forward's inputs in float32.
template <typename T>
__global__ void ConvertToFloatKernel(const T* __restrict__ in, float* __restrict__ out,
                                     int64_t count) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = ToAcc<float>(in[i]);
  }
}

// Fast recompute, 1: for each row and step, the last kept step before it
// (-1: none), from the mask: one warp per row, 32 steps per ballot. Steps in
// processing order (tau).
template <typename T, typename Acc>
__global__ void LastKeptStepKernel(const StepParams<T, Acc> p, int* last_kept) {
  const int64_t b = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (b >= p.batch) return;  // whole warps leave together
  int carry = -1;  // the last kept step before this window
  for (int64_t tau0 = 0; tau0 < p.time; tau0 += 32) {
    const int64_t tau = tau0 + lane;
    const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
    const bool keep = tau < p.time && MaskAt(p.mask, p.mask_is_int32, b * p.time + t);
    const unsigned kept = __ballot_sync(0xffffffffu, keep);
    const unsigned before = kept & ((1u << lane) - 1u);  // kept lanes below this one
    if (tau < p.time) {
      last_kept[b * p.time + tau] =
          before ? static_cast<int>(tau0) + 31 - __clz(before) : carry;
    }
    if (kept) carry = static_cast<int>(tau0) + 31 - __clz(kept);
  }
}

// Fast recompute, 2: h before every step of every (row, unit), from the
// forward's outputs h_seq ([B, T, U] in step order, HSeq: the forward's dtype;
// a kept step's output is its new h): the initial h until the first kept step,
// then the output of the last kept step. One thread per (row, step, unit).
template <typename T, typename Acc, typename HSeq>
__global__ void HPrevFromOutputsKernel(const StepParams<T, Acc> p, const HSeq* h_seq,
                                       const int* last_kept) {
  const int64_t U = p.units, total = p.batch * p.time * U;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row_step = i / U, u = i % U, b = row_step / p.time, tau = row_step % p.time;
    const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
    const int kept = last_kept[row_step];
    p.h_prev[(b * p.time + t) * U + u] =
        kept < 0 ? (p.initial_h ? ToAcc<Acc>(p.initial_h[b * U + u]) : Acc(0))
                 : ToAcc<Acc>(h_seq[(b * p.time + kept) * U + u]);
  }
}

// The inputs of RecomputeCell for one pair: x @ W + b and h_prev @ U (+ b_rec)
// of its gates, and whether the step is kept.
template <typename T, typename Acc>
struct CellInputs {
  Acc x[4], r[4], h_prev;
  bool keep;
};
template <typename T, typename Acc>
__device__ __forceinline__ CellInputs<T, Acc> LoadCellInputs(const StepParams<T, Acc>& p,
                                                             int64_t pair, int64_t u) {
  const int64_t U = p.units, n = p.gates_per_unit * U;
  CellInputs<T, Acc> in;
  for (int k = 0; k < 4; ++k) {
    in.x[k] = k < p.gates_per_unit ? p.proj[pair * n + k * U + u] : Acc(0);
    in.r[k] = k < p.gates_per_unit ? p.gates[pair * n + k * U + u] : Acc(0);
  }
  in.h_prev = p.h_prev[pair * U + u];
  in.keep = MaskAt(p.mask, p.mask_is_int32, pair);
  return in;
}

// Fast recompute, 3: with gates = h_prev @ U (+ recurrent bias) of every pair,
// RecomputeCell as the step-by-step recompute runs it (pre-activations, extra,
// c_prev, in place). GRU and SimpleRNN: one thread per (pair, unit). LSTM: c
// is a recurrence, so one thread per (row, unit) runs the steps, loading
// kChunk steps' inputs before computing them (one memory latency per chunk,
// not per step).
template <typename T, typename Acc>
__global__ void CellsFromProductsKernel(const StepParams<T, Acc> p) {
  const int64_t U = p.units;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if (p.cell != RnnCell::kLstm) {
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < p.batch * p.time * U; i += stride) {
      const int64_t pair = i / U, u = i % U;
      const CellInputs<T, Acc> in = LoadCellInputs(p, pair, u);
      Acc c = Acc(0);
      RecomputeCell(p, pair, u, in.x, in.r, in.h_prev, &c);
    }
    return;
  }
  constexpr int kChunk = 8;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * U) return;
  const int64_t b = i / U, u = i % U;
  Acc c = p.initial_c ? ToAcc<Acc>(p.initial_c[i]) : Acc(0);
  for (int64_t tau0 = 0; tau0 < p.time; tau0 += kChunk) {
    CellInputs<T, Acc> in[kChunk];
#pragma unroll
    for (int j = 0; j < kChunk; ++j) {
      const int64_t tau = min(tau0 + j, p.time - 1);
      const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
      in[j] = LoadCellInputs(p, b * p.time + t, u);
    }
#pragma unroll
    for (int j = 0; j < kChunk; ++j) {
      const int64_t tau = tau0 + j;
      if (tau >= p.time) break;
      const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
      Acc c_step = c;
      RecomputeCell(p, b * p.time + t, u, in[j].x, in[j].r, in[j].h_prev, &c_step);
      if (in[j].keep) c = c_step;
    }
  }
}

template <typename T, typename Acc>
__global__ void InitGradKernel(const StepParams<T, Acc> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  p.dh[i] = p.d_final_h ? ToAcc<Acc>(p.d_final_h[i]) : Acc(0);
  for (int s = 0; s < p.dh_splits; ++s) p.dh_parts[s * p.batch * p.units + i] = Acc(0);
  p.dc[i] = p.d_final_c ? ToAcc<Acc>(p.d_final_c[i]) : Acc(0);
  p.dy[i] = Acc(0);
}

// What one backward step reads of one (row, unit) pair besides the carried
// gradients (loaded apart from the arithmetic, so that a caller can issue the
// loads early).
template <typename Acc>
struct BackwardInputs {
  Acc z[4];    // gate pre-activations
  Acc c_prev;  // LSTM
  Acc extra;   // LSTM: the new c; GRU: mi_h (reset_after) or r*h
  Acc h_prev;
  Acc d_out;   // d_output's part of the output gradient at this step
  bool keep;   // the mask
};

template <typename T, typename Acc>
__device__ __forceinline__ BackwardInputs<Acc> LoadBackwardInputs(const StepParams<T, Acc>& p,
                                                                  int64_t tau, int64_t b,
                                                                  int64_t u) {
  const int64_t U = p.units;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t pair = b * p.time + t;
  const int64_t n = p.gates_per_unit * U;
  BackwardInputs<Acc> in;
  for (int k = 0; k < 4; ++k) in.z[k] = k < p.gates_per_unit ? p.gates[pair * n + k * U + u] : Acc(0);
  in.c_prev = p.cell == RnnCell::kLstm ? p.c_prev[pair * U + u] : Acc(0);
  in.extra = p.cell != RnnCell::kSimpleRnn ? p.extra[pair * U + u] : Acc(0);
  in.h_prev = p.h_prev[pair * U + u];
  in.d_out = Acc(0);
  if (p.d_output) {
    if (p.return_sequences) {
      in.d_out = ToAcc<Acc>(p.d_output[(b * p.time + tau) * U + u]);
    } else if (tau == p.time - 1) {
      in.d_out = ToAcc<Acc>(p.d_output[b * U + u]);
    }
  }
  in.keep = MaskAt(p.mask, p.mask_is_int32, pair);
  return in;
}

// Backward, one (row, unit) pair of one step. *dh: d(h) carried into the step
// (the product with U^T included); *dc, *dy: the carried d(c) and output
// gradient. All three become what goes on to the previous step (*dh: the
// element-wise part of d(h_prev) only; the product with the step's dG_rec is
// added by the caller). Writes the step's dG (0 where masked) to proj / d_rec
// and returns the recurrent side's in dg_rec[0, gates).
template <typename T, typename Acc>
__device__ __forceinline__ void BackwardCell(const StepParams<T, Acc>& p,
                                             const BackwardInputs<Acc>& in, int64_t pair,
                                             int64_t u, Acc* dh, Acc* dc, Acc* dy,
                                             Acc dg_rec[4]) {
  const int64_t U = p.units;
  const int gates = p.gates_per_unit;
  const int64_t n = gates * U;
  Acc g_out = *dy;
  g_out += in.d_out;
  Acc* dg = p.proj + pair * n + u;
  Acc* dg_r = p.d_rec + pair * n + u;
  for (int k = 0; k < 4; ++k) dg_rec[k] = Acc(0);
  if (!in.keep) {
    for (int k = 0; k < gates; ++k) dg[k * U] = Acc(0);
    if (p.d_rec != p.proj) {
      for (int k = 0; k < gates; ++k) dg_r[k * U] = Acc(0);
    }
    *dy = p.zero_output_for_mask ? Acc(0) : g_out;
    return;  // dh, dc pass through unchanged
  }
  *dy = Acc(0);
  const Acc d_h = *dh + g_out;  // the output is the new h
  const Activation act = p.activation, rec_act = p.recurrent_activation;
  switch (p.cell) {
    case RnnCell::kLstm: {
      const LstmUnitGrad<Acc> d = LstmStepGrad(act, rec_act, in.z[0], in.z[1], in.z[2], in.z[3],
                                               in.c_prev, in.extra, d_h, *dc);
      dg[0] = dg_rec[0] = d.d_i;
      dg[U] = dg_rec[1] = d.d_f;
      dg[2 * U] = dg_rec[2] = d.d_g;
      dg[3 * U] = dg_rec[3] = d.d_o;
      *dc = d.d_c_prev;
      *dh = Acc(0);
      break;
    }
    case RnnCell::kGru: {
      const GruUnitGrad<Acc> d =
          p.reset_after ? GruResetAfterStepGrad(act, rec_act, in.z[0], in.z[1], in.z[2], in.extra,
                                                in.h_prev, d_h)
                        : GruResetBeforeStepGrad(act, rec_act, in.z[0], in.z[2], in.h_prev, d_h);
      dg[0] = d.d_z;
      dg[U] = d.d_r;  // reset_after=false: GruResetBeforeGradKernel, after d_rh
      dg[2 * U] = d.d_h_input;
      dg_rec[0] = d.d_z;
      dg_rec[1] = d.d_r;
      dg_rec[2] = p.reset_after ? d.d_h_recurrent : d.d_h_input;
      if (p.reset_after) {
        dg_r[0] = d.d_z;
        dg_r[U] = d.d_r;
        dg_r[2 * U] = d.d_h_recurrent;
      }
      *dh = d.d_h_prev_partial;
      break;
    }
    case RnnCell::kSimpleRnn:
      dg[0] = dg_rec[0] = SimpleRnnStepGrad(act, in.z[0], d_h);
      *dh = Acc(0);
      break;
  }
}

// Backward, one step: dG of the step (0 where masked), dh := the element-wise
// part of d(h_prev) (the product with U^T is added next), dc := d(c_prev),
// dy := the output gradient carried to the previous step.
template <typename T, typename Acc>
__device__ __forceinline__ void BackwardStep(const StepParams<T, Acc>& p, int64_t tau, int64_t i) {
  const int64_t U = p.units, b = i / U, u = i % U;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const BackwardInputs<Acc> in = LoadBackwardInputs(p, tau, b, u);
  Acc dh = DhAt(p, i), dc = p.dc[i], dy = p.dy[i], dg_rec[4];
  BackwardCell(p, in, b * p.time + t, u, &dh, &dc, &dy, dg_rec);
  p.dh[i] = dh;
  p.dc[i] = dc;
  p.dy[i] = dy;
}

template <typename T, typename Acc>
__global__ void BackwardStepKernel(const StepParams<T, Acc> p, int64_t tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < p.batch * p.units) BackwardStep(p, tau, i);
}

// GRU reset_after=false: d_rh = dG_h @ U_h^T is d(r*h); dr and its part of dh.
template <typename T, typename Acc>
__global__ void GruResetBeforeGradKernel(const StepParams<T, Acc> p, int64_t tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  const int64_t U = p.units, b = i / U, u = i % U;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t pair = b * p.time + t;
  if (!MaskAt(p.mask, p.mask_is_int32, pair)) return;
  const GruResetUnitGrad<Acc> d = GruResetBeforeResetGrad(
      p.recurrent_activation, p.gates[pair * 3 * U + U + u], p.h_prev[pair * U + u], p.d_rh[i]);
  p.proj[pair * 3 * U + U + u] = d.d_r;
  p.dh[i] += d.d_h_prev_partial;
}

template <typename T, typename Acc>
__global__ void FinalGradKernel(const StepParams<T, Acc> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  if (p.d_initial_h) p.d_initial_h[i] = FromAcc<T>(DhAt(p, i));
  if (p.d_initial_c) p.d_initial_c[i] = FromAcc<T>(p.dc[i]);
}

// ---------------------------------------------------------------------------
// Persistent kernels: every step of one pass in one cooperative launch, two
// grid barriers per step (the product's tiles x K slices over the blocks, then
// the element-wise step over (row, unit) pairs). The products leave split-K
// partial sums that the element-wise step adds up (RecAt, DhAt).
template <typename Acc>
using StepTileSmem = GemmTileSmem<Acc, 1, kStepTileN / 16>;

// One step's product, its 16 x 64 tiles x `splits` K slices spread over the
// grid's blocks, into `parts` ([splits][m][n]).
template <typename T, typename Acc>
__device__ __forceinline__ void StepProduct(const GemmArgs<Acc, T, Acc, Acc>& g, int splits,
                                            Acc* parts, StepTileSmem<Acc>& smem) {
  const int64_t tiles_m = (g.m + kStepTileM - 1) / kStepTileM;
  const int64_t tiles = tiles_m * ((g.n + kStepTileN - 1) / kStepTileN);
  for (int64_t item = blockIdx.x; item < tiles * splits; item += gridDim.x) {
    const int64_t tile = item % tiles, slice = item / tiles;
    int64_t k_begin, k_end;
    KSliceOf(g.k, slice, splits, &k_begin, &k_end);
    GemmTile(g, tile % tiles_m * kStepTileM, tile / tiles_m * kStepTileN, k_begin, k_end, parts,
             slice, smem);
  }
}

template <typename T, typename Acc>
__global__ void __launch_bounds__(kGemmThreads)
    PersistentForwardKernel(const StepParams<T, Acc> p, const GemmArgs<Acc, T, Acc, Acc> rec,
                            int splits, Acc* parts) {
  namespace cg = cooperative_groups;
  __shared__ StepTileSmem<Acc> smem;
  cg::grid_group grid = cg::this_grid();
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t tau = 0; tau < p.time; ++tau) {
    StepProduct(rec, splits, parts, smem);
    grid.sync();
    for (int64_t i = first; i < p.batch * p.units; i += stride) ForwardStep(p, tau, i);
    grid.sync();
  }
}

// d_h_prev's product: dh_step's A is dG_rec of step t (rows t * N apart).
template <typename T, typename Acc>
__global__ void __launch_bounds__(kGemmThreads)
    PersistentBackwardKernel(const StepParams<T, Acc> p, const GemmArgs<Acc, T, Acc, Acc> dh_step,
                             int splits, Acc* parts) {
  namespace cg = cooperative_groups;
  __shared__ StepTileSmem<Acc> smem;
  cg::grid_group grid = cg::this_grid();
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t n = static_cast<int64_t>(p.gates_per_unit) * p.units;
  for (int64_t tau = p.time - 1; tau >= 0; --tau) {
    for (int64_t i = first; i < p.batch * p.units; i += stride) BackwardStep(p, tau, i);
    grid.sync();
    const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
    GemmArgs<Acc, T, Acc, Acc> g = dh_step;
    g.a = p.d_rec + t * n;
    StepProduct(g, splits, parts, smem);
    grid.sync();
  }
}

// Cooperative launch with as many blocks as `work` asks for, at most what
// the device holds at once.
template <typename Kernel, typename... Args>
cudaError_t LaunchCooperative(Kernel kernel, int64_t work, int num_sms, cudaStream_t stream,
                              Args... args) {
  int per_sm = 0;
  cudaError_t error =
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kGemmThreads, 0);
  if (error != cudaSuccess) return error;
  if (per_sm < 1) return cudaErrorCooperativeLaunchTooLarge;
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(work, int64_t{per_sm} * num_sms));
  void* params[] = {static_cast<void*>(&args)...};
  return cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel),
                                     dim3(static_cast<unsigned>(blocks)), dim3(kGemmThreads),
                                     params, 0, stream);
}

// ---------------------------------------------------------------------------
// Unit-slice kernels (fp32 arithmetic; not GRU reset_after=false, whose step
// has two products): one cooperative launch per pass in the style of
// masked_rnn_persistent.cu's global mode. Block (batch slice, unit slice) owns
// units [u0, u0 + units_per_block) of its batch rows and keeps, for all steps,
// the recurrent-kernel values its product needs in shared memory (fp32, or a
// 16-bit model's own type: exact); the state of its (row, unit) pairs stays in
// shared memory too. Each pass has its own plan (rnn_grad_plans.h). Per step: its
// product from the exchanged vector of its batch rows (read from L2), the
// element-wise step of its pairs, its part of the next exchanged vector to L2
// (double-buffered, __stcg / __ldcg), then ONE barrier among the blocks of its
// batch slice (arrival counter). Batch slices never wait for each other.
//
// Recompute: the exchanged vector is h (B x U); the block's weights are
// U[:, its units' columns of every gate] (U x G*units_per_block).
// Backward: d(h_prev) = dG_rec @ U^T, and a unit's dG needs only its own
// d(h), d(c). Exchanging dG_rec (B x G*U) lets each block finish d(h_prev) of
// its units with the rows U[its units, :] (G*U x units_per_block, the same
// shared memory as the recompute's) and compute its dG from it: one barrier.
// Exchanging d(h) instead (B x U, G times less to read) needs each block's
// partial products of ALL units (split K over the blocks) summed across the
// blocks before any dG: a second exchange and a second barrier per step, the
// cost this kernel removes. So: dG_rec.
constexpr int kSliceThreads = kUnitSliceThreads;
static_assert(kSliceThreads == kGemmThreads, "the unit-slice kernels launch kGemmThreads");
constexpr int kSliceMaxPairs = kUnitSliceMaxPairs;


template <typename T>
struct UnitSliceArgs {
  StepParams<T, float> p;
  const T* recurrent_kernel;
  float* exchange;      // [2][B][exchange_pitch]: h (recompute) or dG_rec (backward)
  int exchange_pitch;   // the product depth, padded to 4 (the padding holds zeros)
  unsigned* counters;   // [batch_slices], zero at launch
  // This pass's plan (UnitSlicePassPlan).
  int units_per_block, unit_slices, batch_per_block, row_groups;
  int k_splits, chunk, stages, weight_pad, weight_bytes;
  SliceTaskOrder order;
};

// Waits until at most `pending` of this thread's newest copy groups are in
// flight (0 .. kUnitSliceMaxStages - 2).
__device__ __forceinline__ void CopyAsyncWaitAtMost(int pending) {
  static_assert(kUnitSliceMaxStages == 4, "one case per ring depth");
  if (pending <= 0) {
    CopyAsyncWait<0>();
  } else if (pending == 1) {
    CopyAsyncWait<1>();
  } else {
    CopyAsyncWait<2>();
  }
}

// partial[ks][row][c] = sum over split ks of in[row][k] * weights[k][c], for
// this block's rows (`in`: their first row in L2, rows `in_pitch` apart). The
// input goes to shared memory in chunks of `chunk` columns (16-byte cp.async
// from L2) through a ring of `stages` buffers: stages - 1 chunks are in flight
// while one is used, and one block barrier per chunk both publishes it and
// frees the buffer of the chunk before it. A thread reading the input from L2
// in its multiply-add loop would wait out one L2 round trip per few steps.
// Task = (RB rows, 4 columns, K split), at most one per thread; `order` says
// which of rows or columns is fastest across threads (SliceTaskOrder). Every
// task sums its k in the same order whatever the stages and the order, so they
// change no bit of the result.
// Four consecutive weights of one row as floats (16-bit ones converted: exact).
__device__ __forceinline__ float4 LoadWeights4(const float* w) {
  return *reinterpret_cast<const float4*>(w);
}
template <typename W>
__device__ __forceinline__ float4 LoadWeights4(const W* w) {
  const uint2 raw = *reinterpret_cast<const uint2*>(w);
  W lo[2], hi[2];
  memcpy(lo, &raw.x, 4);
  memcpy(hi, &raw.y, 4);
  return make_float4(ToAcc<float>(lo[0]), ToAcc<float>(lo[1]), ToAcc<float>(hi[0]),
                     ToAcc<float>(hi[1]));
}

template <int RB, typename W>
__device__ __forceinline__ void SliceProduct(const float* in, int in_pitch, int depth, int rows,
                                             const W* weights, int columns, int weight_pad,
                                             int chunk, int stages, int k_splits, int row_groups,
                                             SliceTaskOrder order, float* stage, float* partial) {
  const int pitch = columns + weight_pad;
  const int stage_pitch = chunk + 4;
  const int column_groups = columns / 4;
  const int padded_rows = row_groups * RB;
  const int task = threadIdx.x;
  const bool active = task < k_splits * column_groups * row_groups;
  int cg, ks, rg;
  if (order == SliceTaskOrder::kRowsFastest) {
    rg = task % row_groups;
    cg = (task / row_groups) % column_groups;
    ks = task / row_groups / column_groups;
  } else {
    cg = task % column_groups;
    ks = (task / column_groups) % k_splits;
    rg = task / column_groups / k_splits;
  }
  const int chunks = (depth + chunk - 1) / chunk;
  const int pieces = padded_rows * (chunk / 4);
  // Always commits a group (empty past the last chunk), so that waiting for
  // stages - 2 pending groups always means "chunk `index` landed".
  auto stage_chunk = [&](int index) {
    if (index < chunks) {
      float* dst = stage + (index % stages) * padded_rows * stage_pitch;
      const int k0 = index * chunk;
      for (int e = threadIdx.x; e < pieces; e += blockDim.x) {
        const int r = e / (chunk / 4), k = 4 * (e % (chunk / 4));
        const int row = min(r, rows - 1);  // padded rows repeat a real one
        const bool inside = k0 + k < depth;
        CopyAsync16(dst + r * stage_pitch + k,
                    in + static_cast<int64_t>(row) * in_pitch + (inside ? k0 + k : 0),
                    inside ? 16 : 0);
      }
    }
    CopyAsyncCommit();
  };
  float acc[RB][4];
#pragma unroll
  for (int r = 0; r < RB; ++r) {
#pragma unroll
    for (int q = 0; q < 4; ++q) acc[r][q] = 0.0f;
  }
  for (int index = 0; index + 1 < stages; ++index) stage_chunk(index);
  for (int index = 0; index < chunks; ++index) {
    CopyAsyncWaitAtMost(stages - 2);
    // Chunk `index` visible to all; every thread is past chunk index - 1,
    // whose buffer the copy below refills.
    __syncthreads();
    stage_chunk(index + stages - 1);
    if (active) {
      const int k0 = index * chunk;
      const float* s =
          stage + (index % stages) * padded_rows * stage_pitch + rg * RB * stage_pitch;
      const W* w_col = weights + static_cast<int64_t>(k0) * pitch + cg * 4;
      const int k4_end = min(chunk, depth - k0) / 4;
#pragma unroll 2
      for (int k4 = ks; k4 < k4_end; k4 += k_splits) {
        float4 v[RB];
#pragma unroll
        for (int r = 0; r < RB; ++r) {
          v[r] = *reinterpret_cast<const float4*>(s + r * stage_pitch + 4 * k4);
        }
        const W* w_k = w_col + 4 * k4 * pitch;
        const float4 w0 = LoadWeights4(w_k);
        const float4 w1 = LoadWeights4(w_k + pitch);
        const float4 w2 = LoadWeights4(w_k + 2 * pitch);
        const float4 w3 = LoadWeights4(w_k + 3 * pitch);
#pragma unroll
        for (int r = 0; r < RB; ++r) {
          AccumulateRow4x4(acc[r], v[r], w0, w1, w2, w3);
        }
      }
    }
  }
  if (active) {
#pragma unroll
    for (int r = 0; r < RB; ++r) {
      *reinterpret_cast<float4*>(partial + (ks * padded_rows + rg * RB + r) * columns + cg * 4) =
          make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    }
  }
}

// The product of one pass on the plan's weight type (16-bit only for 16-bit T).
template <int RB, typename T>
__device__ __forceinline__ void SliceProductOf(const UnitSliceArgs<T>& a, const float* in,
                                               int depth, int rows, const float* weights,
                                               int columns, float* stage, float* partial) {
  if constexpr (sizeof(T) == 2) {
    if (a.weight_bytes == 2) {
      SliceProduct<RB>(in, depth, depth, rows, reinterpret_cast<const T*>(weights), columns,
                       a.weight_pad, a.chunk, a.stages, a.k_splits, a.row_groups, a.order, stage,
                       partial);
      return;
    }
  }
  SliceProduct<RB>(in, depth, depth, rows, weights, columns, a.weight_pad, a.chunk, a.stages,
                   a.k_splits, a.row_groups, a.order, stage, partial);
}

// Sum of column c of one row over the K splits, in a fixed order (four
// running sums, so that four loads are in flight).
__device__ __forceinline__ float SliceSum(const float* partial, int k_splits, int padded_rows,
                                          int columns, int row, int c) {
  const float* part = partial + row * columns + c;
  const int stride = padded_rows * columns;
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int ks = 0;
  for (; ks + 4 <= k_splits; ks += 4) {
    s0 += part[ks * stride];
    s1 += part[(ks + 1) * stride];
    s2 += part[(ks + 2) * stride];
    s3 += part[(ks + 3) * stride];
  }
  for (; ks < k_splits; ++ks) s0 += part[ks * stride];
  return (s0 + s1) + (s2 + s3);
}

// One pass: kBackward false = the recompute (tau = 0..T-1), true = the
// backward (tau = T-1..0, then d_initial_h / d_initial_c).
template <typename T, int RB, bool kBackward>
__global__ void __launch_bounds__(kSliceThreads, 1) UnitSliceKernel(const UnitSliceArgs<T> a) {
  extern __shared__ float4 slice_shared[];
  float* const smem = reinterpret_cast<float*>(slice_shared);
  const StepParams<T, float>& p = a.p;
  const int tid = threadIdx.x;
  const int U = static_cast<int>(p.units), G = p.gates_per_unit, N = G * U;
  const int B = static_cast<int>(p.batch), steps = static_cast<int>(p.time);
  const int uper = a.units_per_block;
  const int columns = kBackward ? uper : G * uper;
  const int depth = a.exchange_pitch;  // padded product depth
  const int unit_slice = blockIdx.x % a.unit_slices;
  const int batch_slice = blockIdx.x / a.unit_slices;
  const int u0 = unit_slice * uper;
  const int b0 = batch_slice * a.batch_per_block;
  const int rows = min(a.batch_per_block, B - b0);
  const int padded_rows = a.row_groups * RB;
  const int items = rows * uper;
  const bool alone = a.unit_slices == 1;
  unsigned* const counter = a.counters + batch_slice;
  const int buffers = min(a.stages, (depth + a.chunk - 1) / a.chunk);
  const UnitSliceSmem layout =
      UnitSliceSmemLayout(depth, columns, a.weight_pad, a.weight_bytes, a.chunk, buffers,
                          a.k_splits, padded_rows, a.batch_per_block * uper);
  float* const weights = smem + layout.weights;
  float* const stage = smem + layout.stage;
  float* const partial = smem + layout.partial;
  // Recompute: h, c; backward: dh (element-wise part), dc, dy.
  float* const s0 = smem + layout.state;
  float* const s1 = s0 + a.batch_per_block * uper;
  float* const s2 = s1 + a.batch_per_block * uper;
  float* const rec_bias = smem + layout.rec_bias;
  const int pitch = columns + a.weight_pad;
  const int64_t buffer = static_cast<int64_t>(B) * depth;  // one half of the exchange

  // Weights, zero past the units and the depth. Recompute: W[k][g*uper + uu] =
  // U[k][g*U + u0 + uu]. Backward: W[j][uu] = U[u0 + uu][j] (k fastest: the
  // global reads run along a row of U).
  for (int i = tid; i < depth * columns; i += blockDim.x) {
    float w = 0.0f;
    int k, c;
    if (kBackward) {
      c = i / depth;
      k = i % depth;
      const int u = u0 + c;
      if (k < N && u < U) w = ToAcc<float>(a.recurrent_kernel[static_cast<int64_t>(u) * N + k]);
    } else {
      k = i / columns;
      c = i % columns;
      const int g = c / uper, u = u0 + c % uper;
      if (k < U && u < U) {
        w = ToAcc<float>(a.recurrent_kernel[static_cast<int64_t>(k) * N + g * U + u]);
      }
    }
    if (sizeof(T) == 2 && a.weight_bytes == 2) {
      reinterpret_cast<T*>(weights)[k * pitch + c] = FromAcc<T>(w);  // exact: w came from T
    } else {
      weights[k * pitch + c] = w;
    }
  }
  if (!kBackward) {
    for (int c = tid; c < columns; c += blockDim.x) {
      const int g = c / uper, u = u0 + c % uper;
      rec_bias[c] = (p.rec_bias && u < U) ? ToAcc<float>(p.rec_bias[g * U + u]) : 0.0f;
    }
  }
  // The exchange's padding columns stay zero (the padded weight rows are zero,
  // but 0 * NaN is not).
  const int real_depth = kBackward ? N : U;
  if (unit_slice == 0) {
    for (int i = tid; i < 2 * rows * (depth - real_depth); i += blockDim.x) {
      const int per_half = rows * (depth - real_depth);
      const int half = i / per_half, rest = i % per_half;
      const int b = b0 + rest / (depth - real_depth), k = real_depth + rest % (depth - real_depth);
      a.exchange[half * buffer + static_cast<int64_t>(b) * depth + k] = 0.0f;
    }
  }
  for (int i = tid; i < items; i += blockDim.x) {
    const int b = b0 + i / uper, u = u0 + i % uper;
    const int64_t at = static_cast<int64_t>(b) * U + u;
    if (u >= U) continue;
    if (kBackward) {
      s0[i] = p.d_final_h ? ToAcc<float>(p.d_final_h[at]) : 0.0f;
      s1[i] = p.d_final_c ? ToAcc<float>(p.d_final_c[at]) : 0.0f;
      s2[i] = 0.0f;
    } else {
      s0[i] = p.initial_h ? ToAcc<float>(p.initial_h[at]) : 0.0f;
      s1[i] = p.initial_c ? ToAcc<float>(p.initial_c[at]) : 0.0f;
      __stcg(a.exchange + static_cast<int64_t>(b) * depth + u, s0[i]);
    }
  }
  unsigned barriers = 0;
  if (kBackward) {
    __syncthreads();  // weights in place
  } else {
    rnn_gpu::GroupBarrier(counter, a.unit_slices * ++barriers, alone);  // and h_0 published
  }

  for (int s = 0; s < steps; ++s) {
    const int tau = kBackward ? steps - 1 - s : s;
    const int t = p.go_backwards ? steps - 1 - tau : tau;
    const float* in = a.exchange + (s & 1) * buffer + static_cast<int64_t>(b0) * depth;
    float* out = a.exchange + ((s + 1) & 1) * buffer + static_cast<int64_t>(b0) * depth;
    // This thread's pairs' inputs, loaded before the product so that their
    // latency hides behind it.
    BackwardInputs<float> bwd_in[kSliceMaxPairs];
    float x_in[kSliceMaxPairs][4];
    bool keep_in[kSliceMaxPairs];
#pragma unroll
    for (int j = 0; j < kSliceMaxPairs; ++j) {
      const int i = tid + j * kSliceThreads;
      const int b = b0 + i / uper, u = u0 + i % uper;
      if (i >= items || u >= U) continue;
      if (kBackward) {
        bwd_in[j] = LoadBackwardInputs(p, tau, b, u);
      } else {
        const int64_t pair = static_cast<int64_t>(b) * steps + t;
#pragma unroll
        for (int g = 0; g < 4; ++g) x_in[j][g] = g < G ? p.proj[pair * N + g * U + u] : 0.0f;
        keep_in[j] = MaskAt(p.mask, p.mask_is_int32, pair);
      }
    }
    const bool product = !kBackward || s > 0;  // no dG after the last step
    if (product) {
      SliceProductOf<RB>(a, in, depth, rows, weights, columns, stage, partial);
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kSliceMaxPairs; ++j) {
      const int i = tid + j * kSliceThreads;
      const int b_local = i / uper, uu = i % uper, u = u0 + uu;
      if (i >= items || u >= U) continue;
      const int64_t pair = static_cast<int64_t>(b0 + b_local) * steps + t;
      if (kBackward) {
        float dh = s0[i], dc = s1[i], dy = s2[i], dg_rec[4];
        if (product) dh += SliceSum(partial, a.k_splits, padded_rows, columns, b_local, uu);
        BackwardCell(p, bwd_in[j], pair, u, &dh, &dc, &dy, dg_rec);
        s0[i] = dh;
        s1[i] = dc;
        s2[i] = dy;
        for (int g = 0; g < G; ++g) __stcg(out + b_local * depth + g * U + u, dg_rec[g]);
      } else {
        float r[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int g = 0; g < G; ++g) {
          r[g] = SliceSum(partial, a.k_splits, padded_rows, columns, b_local, g * uper + uu) +
                 rec_bias[g * uper + uu];
        }
        const float h = s0[i];
        float c = s1[i];
        p.h_prev[pair * U + u] = h;
        const float h_new = RecomputeCell(p, pair, u, x_in[j], r, h, &c);
        if (keep_in[j]) {
          s0[i] = h_new;
          s1[i] = c;
        }
        __stcg(out + b_local * depth + u, s0[i]);
      }
    }
    // The recompute's last h goes nowhere; every dG does (d_initial_h).
    if (kBackward || s + 1 < steps) rnn_gpu::GroupBarrier(counter, a.unit_slices * ++barriers, alone);
  }

  if (kBackward) {  // d(h_0) = its element-wise part + dG_0 @ U^T
    const float* in = a.exchange + (steps & 1) * buffer + static_cast<int64_t>(b0) * depth;
    SliceProductOf<RB>(a, in, depth, rows, weights, columns, stage, partial);
    __syncthreads();
    for (int i = tid; i < items; i += blockDim.x) {
      const int b_local = i / uper, u = u0 + i % uper;
      if (u >= U) continue;
      const int64_t at = static_cast<int64_t>(b0 + b_local) * U + u;
      const float dh = s0[i] + SliceSum(partial, a.k_splits, padded_rows, columns, b_local, i % uper);
      if (p.d_initial_h) p.d_initial_h[at] = FromAcc<T>(dh);
      if (p.d_initial_c) p.d_initial_c[at] = FromAcc<T>(s1[i]);
    }
  }
}

// The kernel of one pass for a plan's rows per task.
template <typename T, bool kBackward>
auto UnitSliceKernelFor(int rows_per_thread) -> decltype(&UnitSliceKernel<T, 1, kBackward>) {
  switch (rows_per_thread) {
    case 8:
      return UnitSliceKernel<T, 8, kBackward>;
    case 4:
      return UnitSliceKernel<T, 4, kBackward>;
    case 2:
      return UnitSliceKernel<T, 2, kBackward>;
    default:
      return UnitSliceKernel<T, 1, kBackward>;
  }
}

// Whether both passes' kernels can hold every block of their plans at once
// (also raises their shared-memory limits).
template <typename T>
cudaError_t UnitSliceKernelsFit(const UnitSlicePlan& plan, int num_sms, bool* fit) {
  *fit = true;
  for (int pass = 0; pass < 2; ++pass) {
    const UnitSlicePassPlan& q = plan.pass[pass];
    int per_sm = 0;
    const cudaError_t error =
        pass == 1 ? MaxActiveBlocksPerSm(UnitSliceKernelFor<T, true>(q.rows_per_thread),
                                         kSliceThreads, q.shared_bytes, &per_sm)
                  : MaxActiveBlocksPerSm(UnitSliceKernelFor<T, false>(q.rows_per_thread),
                                         kSliceThreads, q.shared_bytes, &per_sm);
    if (error != cudaSuccess) {
      *fit = false;
      return error;
    }
    *fit = *fit && int64_t{per_sm} * num_sms >= q.blocks();
  }
  return cudaSuccess;
}

template <typename T>
cudaError_t LaunchUnitSlicePass(bool backward, const UnitSlicePlan& plan, UnitSliceArgs<T> args,
                                cudaStream_t stream) {
  const UnitSlicePassPlan& q = plan.pass[backward ? 1 : 0];
  args.units_per_block = q.units_per_block;
  args.unit_slices = q.unit_slices;
  args.batch_per_block = q.batch_per_block;
  args.row_groups = q.row_groups;
  args.k_splits = q.k_splits;
  args.chunk = q.chunk;
  args.stages = q.stages;
  args.weight_pad = q.weight_pad;
  args.weight_bytes = q.weight_bytes;
  args.order = q.order;
  void* params[] = {&args};
  const void* kernel =
      backward ? reinterpret_cast<const void*>(UnitSliceKernelFor<T, true>(q.rows_per_thread))
               : reinterpret_cast<const void*>(UnitSliceKernelFor<T, false>(q.rows_per_thread));
  return cudaLaunchCooperativeKernel(kernel, dim3(static_cast<unsigned>(q.blocks())),
                                     dim3(kSliceThreads), params, q.shared_bytes, stream);
}

// The recompute on the forward kernels (FastRecomputeApplies): the forward
// leaves x @ W + b in p.proj (Layout puts its workspace there); fills h_prev,
// gates, extra and c_prev as the unit-slice recompute pass does.
template <typename T, typename Acc>
cudaError_t FastRecompute(const MaskedRnnConfig& config, const MaskedRnnGpuGradArgs& args,
                          const RnnKernelOptions& options, const GradLayout& layout,
                          char* workspace, const StepParams<T, Acc>& p, bool tensor_cores,
                          cudaStream_t stream) {
  const MaskedRnnConfig forward = FastRecomputeForward(config);
  const DType forward_dtype = FastRecomputeForwardDType(config, args.forward.dtype);
  void* const h_seq = workspace + layout.h_seq;
  MaskedRnnGpuArgs forward_args = args.forward;
  forward_args.output = h_seq;
  forward_args.final_h = nullptr;
  forward_args.final_c = nullptr;
  if (forward_dtype != args.forward.dtype) {  // the forward's inputs in float32
    const MaskedRnnConfig& c = config;
    const int64_t n = GateCount(c.cell) * c.units;
    const int64_t bias = c.has_bias ? (c.cell == RnnCell::kGru && c.reset_after ? 2 : 1) * n : 0;
    float* at = reinterpret_cast<float*>(workspace + layout.inputs32);
    auto convert = [&](const void*& pointer, int64_t count) {
      if (pointer == nullptr || count == 0) return cudaSuccess;
      const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((count + 255) / 256, 4096));
      ConvertToFloatKernel<T><<<blocks, 256, 0, stream>>>(static_cast<const T*>(pointer), at,
                                                          count);
      pointer = at;
      at += (count + 3) / 4 * 4;  // the next array from a 16-byte boundary, as Layout counts
      return cudaGetLastError();
    };
    const int64_t pairs = c.batch * c.time, states = c.batch * c.units;
    cudaError_t error = cudaSuccess;
    if ((error = convert(forward_args.x, pairs * c.input_size)) != cudaSuccess ||
        (error = convert(forward_args.kernel, c.input_size * n)) != cudaSuccess ||
        (error = convert(forward_args.recurrent_kernel, c.units * n)) != cudaSuccess ||
        (error = convert(forward_args.bias, bias)) != cudaSuccess ||
        (error = convert(forward_args.initial_h, states)) != cudaSuccess ||
        (error = convert(forward_args.initial_c, c.cell == RnnCell::kLstm ? states : 0)) !=
            cudaSuccess) {
      return error;
    }
    forward_args.dtype = forward_dtype;
  }
  const size_t forward_bytes = MaskedRnnGpuWorkspaceBytes(forward, forward_dtype);
  int status = LaunchMaskedRnnWithOptions(forward, forward_args, options,
                                          workspace + layout.forward, forward_bytes,
                                          reinterpret_cast<GpuStream>(stream));
  if (status != 0) return static_cast<cudaError_t>(status);
  int* const last_kept = reinterpret_cast<int*>(workspace + layout.last_kept);
  LastKeptStepKernel<T, Acc><<<static_cast<unsigned>((p.batch + 7) / 8), 256, 0, stream>>>(
      p, last_kept);
  cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess) return error;
  const int64_t elements = p.batch * p.time * p.units;
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>((elements + 255) / 256, 8192));
  if (forward_dtype == DType::kFloat32) {
    HPrevFromOutputsKernel<T, Acc, float>
        <<<grid, 256, 0, stream>>>(p, static_cast<const float*>(h_seq), last_kept);
  } else {
    HPrevFromOutputsKernel<T, Acc, T><<<grid, 256, 0, stream>>>(p, static_cast<const T*>(h_seq),
                                                                last_kept);
  }
  if ((error = cudaGetLastError()) != cudaSuccess) return error;
  const int64_t U = p.units, n = p.gates_per_unit * U;
  GemmArgs<Acc, T, Acc, Acc> rec;  // gates = h_prev @ U (+ recurrent bias), every pair
  rec.a = p.h_prev;
  rec.lda_i = U;
  rec.lda_k = 1;
  rec.b = static_cast<const T*>(args.forward.recurrent_kernel);
  rec.ldb_k = n;
  rec.ldb_j = 1;
  rec.c = p.gates;
  rec.ldc = n;
  rec.bias = p.rec_bias;
  rec.m = p.batch * p.time;
  rec.n = n;
  rec.k = U;
  if ((error = Gemm(rec, reinterpret_cast<Acc*>(workspace + layout.partial), stream,
                    tensor_cores)) != cudaSuccess) {
    return error;
  }
  // LSTM: a thread per (row, unit), all launched; else a grid-stride loop over the pairs.
  const int64_t blocks = p.cell == RnnCell::kLstm ? (p.batch * p.units + 255) / 256 : grid;
  CellsFromProductsKernel<T, Acc><<<static_cast<unsigned>(blocks), 256, 0, stream>>>(p);
  return cudaGetLastError();
}

template <typename T, typename Acc>
int LaunchTyped(const MaskedRnnConfig& config, const MaskedRnnGpuGradArgs& args,
                const RnnKernelOptions& options, char* workspace, cudaStream_t stream) {
  const GradLayout layout = Layout(config, args.forward.dtype);
  const int64_t B = config.batch, steps = config.time, F = config.input_size, U = config.units;
  const int gates = GateCount(config.cell);
  const int64_t n = gates * U;
  const bool lstm = config.cell == RnnCell::kLstm;
  const bool gru_after = config.cell == RnnCell::kGru && config.reset_after;
  const bool gru_before = config.cell == RnnCell::kGru && !config.reset_after;
  auto slot = [&](size_t offset) { return reinterpret_cast<Acc*>(workspace + offset); };
  const T* x = static_cast<const T*>(args.forward.x);
  const T* kernel = static_cast<const T*>(args.forward.kernel);
  const T* recurrent_kernel = static_cast<const T*>(args.forward.recurrent_kernel);
  const T* bias = config.has_bias ? static_cast<const T*>(args.forward.bias) : nullptr;
  Acc* partial = slot(layout.partial);

  StepParams<T, Acc> p;
  p.mask = args.forward.mask;
  p.mask_is_int32 = args.forward.mask_dtype == MaskDType::kInt32;
  p.initial_h = static_cast<const T*>(args.forward.initial_h);
  p.initial_c = lstm ? static_cast<const T*>(args.forward.initial_c) : nullptr;
  p.d_output = static_cast<const T*>(args.d_output);
  p.d_final_h = static_cast<const T*>(args.d_final_h);
  p.d_final_c = lstm ? static_cast<const T*>(args.d_final_c) : nullptr;
  p.d_initial_h = static_cast<T*>(args.d_initial_h);
  p.d_initial_c = lstm ? static_cast<T*>(args.d_initial_c) : nullptr;
  p.proj = slot(layout.proj);
  p.gates = slot(layout.gates);
  p.extra = slot(layout.extra);
  p.h_prev = slot(layout.h_prev);
  p.c_prev = slot(layout.c_prev);
  p.d_rec = gru_after ? slot(layout.d_rec) : p.proj;
  p.rec = slot(layout.rec);
  p.h = slot(layout.h);
  p.c = slot(layout.c);
  p.dh = slot(layout.dh);
  p.dc = slot(layout.dc);
  p.dy = slot(layout.dy);
  p.d_rh = slot(layout.d_rh);
  p.cell = config.cell;
  p.gates_per_unit = gates;
  p.activation = config.activation;
  p.recurrent_activation = config.recurrent_activation;
  p.reset_after = config.reset_after;
  p.go_backwards = config.go_backwards;
  p.return_sequences = config.return_sequences;
  p.zero_output_for_mask = config.zero_output_for_mask;
  p.batch = B;
  p.time = steps;
  p.units = U;

  p.rec_parts = slot(layout.rec_parts);
  p.rec_splits = 0;
  p.rec_bias = (gru_after && bias) ? bias + n : nullptr;
  p.dh_parts = slot(layout.dh_parts);
  p.dh_splits = 0;

  const int64_t row_units = B * U;
  const unsigned blocks = static_cast<unsigned>((row_units + 255) / 256);
  cudaError_t error = cudaSuccess;
  // Where the recurrence runs: the unit-slice kernels (fp32 arithmetic, not
  // GRU reset_after=false) wherever their plan fits the GPU (the recurrent
  // kernel's slices in shared memory, every block resident at once). Else the
  // split-K persistent kernels (a cooperative launch; not GRU reset_after=false,
  // whose step has two products) up to 32768 (row, unit) pairs, and one launch
  // per product and step beyond, where the persistent kernels' 16-row step
  // tiles lose to the per-launch 64 x 64 tiles (H200, T 100, whole gradient:
  // B 128 U 512 12.2 ms persistent vs 8.7 per step; B 64 U 512 6.9 vs 7.3; U 128
  // 3.0-3.6 vs 4.8-6.2). TFTRT_MASKING_RNN_GRAD_PER_STEP=1 /
  // TFTRT_MASKING_RNN_GRAD_PERSISTENT=1 force either (harness A/B).
  int device = 0, num_sms = 0, cooperative = 0, cc_major = 0;
  if ((error = cudaGetDevice(&device)) != cudaSuccess ||
      (error = cudaDeviceGetAttribute(&num_sms, cudaDevAttrMultiProcessorCount, device)) !=
          cudaSuccess ||
      (error = cudaDeviceGetAttribute(&cooperative, cudaDevAttrCooperativeLaunch, device)) !=
          cudaSuccess ||
      (error = cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, device)) !=
          cudaSuccess) {
    return error;
  }
  // The products over all pairs on the tensor-core tiles (TF32 is sm_80+).
  const bool tensor_cores = cc_major >= 8;
  const bool persistent =
      cooperative != 0 && !gru_before && !options.grad_per_step &&
      (row_units <= 32768 || options.grad_persistent);
  UnitSlicePlan slice_plan;
  bool use_slices = false;
  if constexpr (std::is_same<Acc, float>::value) {
    if (cooperative != 0 && !gru_before && !options.grad_per_step && !options.grad_persistent &&
        steps > 0 && row_units > 0) {
      int shared_optin = 0;
      if ((error = cudaDeviceGetAttribute(&shared_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                          device)) != cudaSuccess) {
        return error;
      }
      if (PlanUnitSlices(B, U, gates, num_sms, static_cast<size_t>(shared_optin), &slice_plan,
                         options.grad_slice_force, static_cast<int>(sizeof(T))) &&
          (error = UnitSliceKernelsFit<T>(slice_plan, num_sms, &use_slices)) != cudaSuccess) {
        return error;
      }
    }
  }
  auto check = [&]() {
    error = cudaGetLastError();
    return error == cudaSuccess;
  };
  // The recompute on the forward's kernels, which also leave the input
  // projection in p.proj.
  const bool fast_recompute =
      use_slices && !options.grad_slice_recompute &&
      (FastRecomputeApplies(config, args.forward.dtype) ||
       (options.grad_fast_recompute && FastRecomputeFits(config, args.forward.dtype)));

  // 1. Recompute the forward.
  if (row_units > 0) {
    if (!fast_recompute) {
      GemmArgs<T, T, Acc, Acc> proj;
      proj.a = x;
      proj.lda_i = F;
      proj.lda_k = 1;
      proj.b = kernel;
      proj.ldb_k = n;
      proj.ldb_j = 1;
      proj.c = p.proj;
      proj.ldc = n;
      proj.bias = bias;  // the input bias ([0] of GRU reset_after's two)
      proj.m = B * steps;
      proj.n = n;
      proj.k = F;
      if ((error = Gemm(proj, partial, stream, tensor_cores)) != cudaSuccess) return error;
    }
    if (use_slices) {
      if constexpr (std::is_same<Acc, float>::value) {
        unsigned* counters = reinterpret_cast<unsigned*>(workspace + layout.counters);
        // Pass 0's counters, then pass 1's (at most B each: the workspace's [2][B]).
        const int batch_slices[2] = {slice_plan.pass[0].batch_slices,
                                     slice_plan.pass[1].batch_slices};
        error = cudaMemsetAsync(counters, 0, sizeof(unsigned) * (batch_slices[0] + batch_slices[1]),
                                stream);
        if (error != cudaSuccess) return error;
        UnitSliceArgs<T> slices;
        slices.p = p;
        slices.recurrent_kernel = recurrent_kernel;
        slices.exchange = reinterpret_cast<float*>(workspace + layout.exchange);
        slices.exchange_pitch = RoundUp4(U);
        slices.counters = counters;
        if (fast_recompute) {
          if ((error = FastRecompute(config, args, options, layout, workspace, p, tensor_cores,
                                     stream)) != cudaSuccess) {
            return error;
          }
        } else if ((error = LaunchUnitSlicePass(false, slice_plan, slices, stream)) !=
                   cudaSuccess) {
          return error;
        }
        if (options.grad_recompute_only) return cudaSuccess;
        slices.exchange_pitch = RoundUp4(n);
        slices.counters = counters + batch_slices[0];
        if ((error = LaunchUnitSlicePass(true, slice_plan, slices, stream)) != cudaSuccess) {
          return error;
        }
      }
    } else {
      InitStateKernel<<<blocks, 256, 0, stream>>>(p);
      if (!check()) return error;
      GemmArgs<Acc, T, Acc, Acc> rec;  // rec = h @ U (+ recurrent bias)
      rec.a = p.h;
      rec.lda_i = U;
      rec.lda_k = 1;
      rec.b = recurrent_kernel;
      rec.ldb_k = n;
      rec.ldb_j = 1;
      rec.c = p.rec;
      rec.ldc = n;
      rec.bias = p.rec_bias;
      rec.m = B;
      rec.n = gru_before ? 2 * U : n;
      rec.k = U;
      if (persistent && steps > 0) {
        const int splits = StepSplits(B, n, U);
        const int64_t tiles = (B + kStepTileM - 1) / kStepTileM * ((n + kStepTileN - 1) / kStepTileN);
        StepParams<T, Acc> q = p;  // RecAt sums the partial products
        q.rec_splits = splits;
        error = LaunchCooperative(PersistentForwardKernel<T, Acc>,
                                  std::max<int64_t>(tiles * splits, blocks), num_sms, stream, q, rec,
                                  splits, p.rec_parts);
        if (error != cudaSuccess) return error;
      }
      for (int64_t tau = 0; tau < (persistent ? 0 : steps); ++tau) {
        if ((error = Gemm(rec, partial, stream)) != cudaSuccess) return error;
        ForwardStepKernel<<<blocks, 256, 0, stream>>>(p, tau);
        if (!check()) return error;
        if (gru_before) {  // rec[:, 2U:] = (r*h) @ U_h
          const int64_t t = config.go_backwards ? steps - 1 - tau : tau;
          GemmArgs<Acc, T, Acc, Acc> rh;
          rh.a = p.extra + t * U;
          rh.lda_i = steps * U;
          rh.lda_k = 1;
          rh.b = recurrent_kernel + 2 * U;
          rh.ldb_k = n;
          rh.ldb_j = 1;
          rh.c = p.rec + 2 * U;
          rh.ldc = n;
          rh.m = B;
          rh.n = U;
          rh.k = U;
          if ((error = Gemm(rh, partial, stream)) != cudaSuccess) return error;
          ForwardGruResetBeforeKernel<<<blocks, 256, 0, stream>>>(p, tau);
          if (!check()) return error;
        }
      }

      if (options.grad_recompute_only) return cudaGetLastError();

      // 2. Backward through the steps.
      GemmArgs<Acc, T, Acc, Acc> dh;  // dh += dG_rec @ U^T (GRU reset_after=false: z, r)
      dh.lda_i = steps * n;
      dh.lda_k = 1;
      dh.b = recurrent_kernel;
      dh.ldb_k = 1;
      dh.ldb_j = n;
      dh.c = p.dh;
      dh.ldc = U;
      dh.addend = p.dh;
      dh.m = B;
      dh.n = U;
      dh.k = gru_before ? 2 * U : n;
      if (persistent) p.dh_splits = StepSplits(B, U, n);  // DhAt sums the partial products
      InitGradKernel<<<blocks, 256, 0, stream>>>(p);
      if (!check()) return error;
      if (persistent && steps > 0) {
        const int64_t tiles = (B + kStepTileM - 1) / kStepTileM * ((U + kStepTileN - 1) / kStepTileN);
        error = LaunchCooperative(PersistentBackwardKernel<T, Acc>,
                                  std::max<int64_t>(tiles * p.dh_splits, blocks), num_sms, stream,
                                  p, dh, p.dh_splits, p.dh_parts);
        if (error != cudaSuccess) return error;
      }
      for (int64_t tau = (persistent ? -1 : steps - 1); tau >= 0; --tau) {
        const int64_t t = config.go_backwards ? steps - 1 - tau : tau;
        BackwardStepKernel<<<blocks, 256, 0, stream>>>(p, tau);
        if (!check()) return error;
        if (gru_before) {  // d_rh = dG_h @ U_h^T, then dr
          GemmArgs<Acc, T, Acc, Acc> d_rh;
          d_rh.a = p.proj + t * n + 2 * U;
          d_rh.lda_i = steps * n;
          d_rh.lda_k = 1;
          d_rh.b = recurrent_kernel + 2 * U;
          d_rh.ldb_k = 1;
          d_rh.ldb_j = n;
          d_rh.c = p.d_rh;
          d_rh.ldc = U;
          d_rh.m = B;
          d_rh.n = U;
          d_rh.k = U;
          if ((error = Gemm(d_rh, partial, stream)) != cudaSuccess) return error;
          GruResetBeforeGradKernel<<<blocks, 256, 0, stream>>>(p, tau);
          if (!check()) return error;
        }
        dh.a = p.d_rec + t * n;
        if ((error = Gemm(dh, partial, stream)) != cudaSuccess) return error;
      }
      FinalGradKernel<<<blocks, 256, 0, stream>>>(p);
      if (!check()) return error;
    }
  }

  // 3. Products over all (row, step) pairs (K = B*T = 0 writes zeros).
  const int64_t pairs = B * steps;
  {
    GemmArgs<T, Acc, T, Acc> dw;  // d_kernel = X^T dG
    dw.a = x;
    dw.lda_i = 1;
    dw.lda_k = F;
    dw.b = p.proj;
    dw.ldb_k = n;
    dw.ldb_j = 1;
    dw.c = static_cast<T*>(args.d_kernel);
    dw.ldc = n;
    dw.m = F;
    dw.n = n;
    dw.k = pairs;
    if ((error = Gemm(dw, partial, stream, tensor_cores)) != cudaSuccess) return error;
  }
  {
    GemmArgs<Acc, Acc, T, Acc> du;  // d_recurrent_kernel = Hprev^T dG_rec
    du.a = p.h_prev;
    du.lda_i = 1;
    du.lda_k = U;
    du.b = p.d_rec;
    du.ldb_k = n;
    du.ldb_j = 1;
    du.c = static_cast<T*>(args.d_recurrent_kernel);
    du.ldc = n;
    du.m = U;
    du.n = gru_before ? 2 * U : n;
    du.k = pairs;
    if ((error = Gemm(du, partial, stream, tensor_cores)) != cudaSuccess) return error;
    if (gru_before) {  // the h gate's recurrent input is r*h
      du.a = p.extra;
      du.b = p.proj + 2 * U;
      du.c = static_cast<T*>(args.d_recurrent_kernel) + 2 * U;
      du.n = U;
      if ((error = Gemm(du, partial, stream, tensor_cores)) != cudaSuccess) return error;
    }
  }
  if (config.has_bias) {
    GemmArgs<Acc, Acc, T, Acc> db;  // column sums: A = ones
    db.a = nullptr;
    db.b = p.proj;
    db.ldb_k = n;
    db.ldb_j = 1;
    db.c = static_cast<T*>(args.d_bias);
    db.ldc = n;
    db.m = 1;
    db.n = n;
    db.k = pairs;
    if ((error = Gemm(db, partial, stream)) != cudaSuccess) return error;
    if (gru_after) {  // [input bias; recurrent bias]
      db.b = p.d_rec;
      db.c = static_cast<T*>(args.d_bias) + n;
      if ((error = Gemm(db, partial, stream)) != cudaSuccess) return error;
    }
  }
  if (pairs > 0 && F > 0) {
    GemmArgs<Acc, T, T, Acc> dx;  // d_x = dG W^T
    dx.a = p.proj;
    dx.lda_i = n;
    dx.lda_k = 1;
    dx.b = kernel;
    dx.ldb_k = 1;
    dx.ldb_j = n;
    dx.c = static_cast<T*>(args.d_x);
    dx.ldc = F;
    dx.m = pairs;
    dx.n = F;
    dx.k = n;
    if ((error = Gemm(dx, partial, stream, tensor_cores)) != cudaSuccess) return error;
  }
  return cudaGetLastError();
}

}  // namespace
}  // namespace rnn_grad_gpu

size_t MaskedRnnGpuGradWorkspaceBytes(const MaskedRnnConfig& config, DType dtype) {
  return rnn_grad_gpu::Layout(config, dtype).total;
}

int LaunchMaskedRnnGrad(const MaskedRnnConfig& config, const MaskedRnnGpuGradArgs& args,
                        void* workspace, size_t workspace_bytes, GpuStream stream) {
  return LaunchMaskedRnnGradWithOptions(config, args, RnnKernelOptionsFromEnvironment(), workspace,
                                        workspace_bytes, stream);
}

int LaunchMaskedRnnGradWithOptions(const MaskedRnnConfig& config, const MaskedRnnGpuGradArgs& args,
                                   const RnnKernelOptions& options, void* workspace,
                                   size_t workspace_bytes, GpuStream stream) {
  if (ValidateMaskedRnnConfig(config) != nullptr) return cudaErrorInvalidValue;
  const bool lstm = config.cell == RnnCell::kLstm;
  const int64_t pairs = config.batch * config.time;
  const int64_t n = GateCount(config.cell) * config.units;
  // Every gradient the config has, unless it has no elements.
  if ((args.d_x == nullptr && pairs * config.input_size > 0) ||
      (args.d_kernel == nullptr && config.input_size * n > 0) ||
      (args.d_recurrent_kernel == nullptr && config.units * n > 0) ||
      (config.has_bias && args.d_bias == nullptr && n > 0) ||
      (args.d_initial_h == nullptr && config.batch * config.units > 0) ||
      (lstm && args.d_initial_c == nullptr && config.batch * config.units > 0) ||
      (pairs > 0 && args.forward.x == nullptr && config.input_size > 0) ||
      (config.has_bias && args.forward.bias == nullptr && n > 0)) {
    return cudaErrorInvalidValue;
  }
  const size_t need = MaskedRnnGpuGradWorkspaceBytes(config, args.forward.dtype);
  if (workspace_bytes < need || (need > 0 && workspace == nullptr)) return cudaErrorInvalidValue;
  char* scratch = static_cast<char*>(workspace);
  cudaStream_t cuda_stream = reinterpret_cast<cudaStream_t>(stream);
  switch (args.forward.dtype) {
    case DType::kFloat32:
      return rnn_grad_gpu::LaunchTyped<float, float>(config, args, options, scratch, cuda_stream);
    case DType::kFloat16:
      return rnn_grad_gpu::LaunchTyped<__half, float>(config, args, options, scratch, cuda_stream);
    case DType::kBFloat16:
      return rnn_grad_gpu::LaunchTyped<__nv_bfloat16, float>(config, args, options, scratch,
                                                             cuda_stream);
    case DType::kFloat64:
      return rnn_grad_gpu::LaunchTyped<double, double>(config, args, options, scratch, cuda_stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace tftrt_masking
