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
// Steps 1 and 2 each run as one persistent cooperative kernel (two grid
// barriers per step; B x U <= 32768, not GRU reset_after=false), or as one
// launch per product and element-wise step.
// 3. The weight and input gradients as products over all (row, step) pairs:
//    d_kernel = X^T dG, d_recurrent_kernel = Hprev^T dG_rec, d_bias = column sums,
//    d_x = dG W^T.
// Every product is one strided GEMM kernel (fp32 accumulation, double for
// float64); small products split K over blocks and sum the partial tiles in a
// fixed order, so the result is deterministic (no atomics anywhere).
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
#include "kernels/rnn/rnn_device.cuh"
#include "kernels/rnn/rnn_kernel_choice.h"

namespace tftrt_masking {
namespace rnn_grad_gpu {
namespace {

using rnn_gpu::FromAcc;
using rnn_gpu::MaskAt;
using rnn_gpu::ToAcc;

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
// (>= 2^30 multiply-adds): 128 x 128; else 64 x 64.
struct GemmTiling {
  int rm, cn;
};
GemmTiling GemmTilingOf(int64_t m, int64_t n, int64_t k) {
  if (m <= 16) return {1, 4};
  if (m >= 128 && n >= 128 && m * n * k >= (int64_t{1} << 30)) return {8, 8};
  return {4, 4};
}

// K slices: enough blocks for the GPU (about 256) where the tiles are few,
// each slice at least 256 deep. A function of the shape only, so the
// workspace size and the summation order do not depend on the device.
int GemmSplits(int64_t m, int64_t n, int64_t k) {
  const GemmTiling tiling = GemmTilingOf(m, n, k);
  const int64_t tile_m = 16 * tiling.rm, tile_n = 16 * tiling.cn;
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
size_t GemmPartialElements(int64_t m, int64_t n, int64_t k) {
  const int splits = GemmSplits(m, n, k);
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

template <typename TA, typename TB, typename TC, typename Acc>
cudaError_t Gemm(const GemmArgs<TA, TB, TC, Acc>& p, Acc* partial, cudaStream_t stream) {
  if (p.m <= 0 || p.n <= 0) return cudaSuccess;
  const GemmTiling tiling = GemmTilingOf(p.m, p.n, p.k);
  const int splits = GemmSplits(p.m, p.n, p.k);
  const int tile_m = 16 * tiling.rm, tile_n = 16 * tiling.cn;
  const dim3 grid(static_cast<unsigned>((p.m + tile_m - 1) / tile_m),
                  static_cast<unsigned>((p.n + tile_n - 1) / tile_n),
                  static_cast<unsigned>(splits));
  if (tiling.rm == 1) {
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
  size_t proj = 0;     // [B*T, N] x @ W + input bias; later dG (input side)
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
  size_t total = 0;
};

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
  take(&layout.proj, pairs * n);
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

template <typename T, typename Acc>
__device__ __forceinline__ void ForwardStep(const StepParams<T, Acc>& p, int64_t tau, int64_t i) {
  const int64_t U = p.units, b = i / U, u = i % U;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t pair = b * p.time + t;
  const int64_t n = p.gates_per_unit * U;
  const Acc* x = p.proj + pair * n + u;
  Acc r[4];
  for (int k = 0; k < p.gates_per_unit; ++k) r[k] = RecAt(p, b, k * U + u);
  Acc* z = p.gates + pair * n + u;
  const Acc h = p.h[i];
  const bool keep = MaskAt(p.mask, p.mask_is_int32, pair);
  const Activation act = p.activation, rec_act = p.recurrent_activation;
  p.h_prev[pair * U + u] = h;
  Acc h_new = h;
  switch (p.cell) {
    case RnnCell::kLstm: {
      const Acc c = p.c[i];
      for (int k = 0; k < 4; ++k) z[k * U] = x[k * U] + r[k];
      const Acc c_new =
          Activate(rec_act, z[U]) * c + Activate(rec_act, z[0]) * Activate(act, z[2 * U]);
      h_new = Activate(rec_act, z[3 * U]) * Activate(act, c_new);
      p.extra[pair * U + u] = c_new;
      p.c_prev[pair * U + u] = c;
      if (keep) p.c[i] = c_new;
      break;
    }
    case RnnCell::kGru: {
      z[0] = x[0] + r[0];
      z[U] = x[U] + r[1];
      const Acc gr = Activate(rec_act, z[U]);
      if (!p.reset_after) {  // phase 2 needs r*h of every unit first
        p.extra[pair * U + u] = gr * h;
        return;
      }
      z[2 * U] = x[2 * U] + gr * r[2];
      p.extra[pair * U + u] = r[2];  // mi_h, with the recurrent bias
      const Acc gz = Activate(rec_act, z[0]);
      h_new = gz * h + (Acc(1) - gz) * Activate(act, z[2 * U]);
      break;
    }
    case RnnCell::kSimpleRnn:
      z[0] = x[0] + r[0];
      h_new = Activate(act, z[0]);
      break;
  }
  if (keep) p.h[i] = h_new;
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

template <typename T, typename Acc>
__global__ void InitGradKernel(const StepParams<T, Acc> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  p.dh[i] = p.d_final_h ? ToAcc<Acc>(p.d_final_h[i]) : Acc(0);
  for (int s = 0; s < p.dh_splits; ++s) p.dh_parts[s * p.batch * p.units + i] = Acc(0);
  p.dc[i] = p.d_final_c ? ToAcc<Acc>(p.d_final_c[i]) : Acc(0);
  p.dy[i] = Acc(0);
}

// Backward, one step: dG of the step (0 where masked), dh := the element-wise
// part of d(h_prev) (the product with U^T is added next), dc := d(c_prev),
// dy := the output gradient carried to the previous step.
template <typename T, typename Acc>
__device__ __forceinline__ void BackwardStep(const StepParams<T, Acc>& p, int64_t tau, int64_t i) {
  const int64_t U = p.units, b = i / U, u = i % U;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t pair = b * p.time + t;
  const int gates = p.gates_per_unit;
  const int64_t n = gates * U;
  Acc g_out = p.dy[i];
  if (p.d_output) {
    if (p.return_sequences) {
      g_out += ToAcc<Acc>(p.d_output[(b * p.time + tau) * U + u]);
    } else if (tau == p.time - 1) {
      g_out += ToAcc<Acc>(p.d_output[i]);
    }
  }
  Acc* dg = p.proj + pair * n + u;
  Acc* dg_rec = p.d_rec + pair * n + u;
  if (!MaskAt(p.mask, p.mask_is_int32, pair)) {
    for (int k = 0; k < gates; ++k) dg[k * U] = Acc(0);
    if (p.d_rec != p.proj) {
      for (int k = 0; k < gates; ++k) dg_rec[k * U] = Acc(0);
    }
    p.dy[i] = p.zero_output_for_mask ? Acc(0) : g_out;
    if (p.dh_splits) p.dh[i] = DhAt(p, i);  // dh, dc pass through unchanged
    return;
  }
  p.dy[i] = Acc(0);
  const Acc dh = DhAt(p, i) + g_out;  // the output is the new h
  const Acc* z = p.gates + pair * n + u;
  const Acc h_prev = p.h_prev[pair * U + u];
  const Activation act = p.activation, rec_act = p.recurrent_activation;
  switch (p.cell) {
    case RnnCell::kLstm: {
      const LstmUnitGrad<Acc> d = LstmStepGrad(act, rec_act, z[0], z[U], z[2 * U], z[3 * U],
                                               p.c_prev[pair * U + u], p.extra[pair * U + u], dh,
                                               p.dc[i]);
      dg[0] = d.d_i;
      dg[U] = d.d_f;
      dg[2 * U] = d.d_g;
      dg[3 * U] = d.d_o;
      p.dc[i] = d.d_c_prev;
      p.dh[i] = Acc(0);
      break;
    }
    case RnnCell::kGru: {
      const GruUnitGrad<Acc> d =
          p.reset_after ? GruResetAfterStepGrad(act, rec_act, z[0], z[U], z[2 * U],
                                                p.extra[pair * U + u], h_prev, dh)
                        : GruResetBeforeStepGrad(act, rec_act, z[0], z[2 * U], h_prev, dh);
      dg[0] = d.d_z;
      dg[U] = d.d_r;  // reset_after=false: GruResetBeforeGradKernel, after d_rh
      dg[2 * U] = d.d_h_input;
      if (p.reset_after) {
        dg_rec[0] = d.d_z;
        dg_rec[U] = d.d_r;
        dg_rec[2 * U] = d.d_h_recurrent;
      }
      p.dh[i] = d.d_h_prev_partial;
      break;
    }
    case RnnCell::kSimpleRnn:
      dg[0] = SimpleRnnStepGrad(act, z[0], dh);
      p.dh[i] = Acc(0);
      break;
  }
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
  // The persistent kernels need a cooperative launch; GRU reset_after=false
  // (two products per step) takes one launch per product and step, and so do
  // recurrences of more than 32768 (row, unit) pairs, whose 16-row step tiles
  // lose to the per-launch 64 x 64 tiles (H200, T 100, whole gradient: B 128
  // U 512 12.2 ms persistent vs 8.7 per step; B 64 U 512 6.9 vs 7.3; U 128
  // 3.0-3.6 vs 4.8-6.2). TFTRT_MASKING_RNN_GRAD_PER_STEP=1 /
  // TFTRT_MASKING_RNN_GRAD_PERSISTENT=1 force either (harness A/B).
  int device = 0, num_sms = 0, cooperative = 0;
  if ((error = cudaGetDevice(&device)) != cudaSuccess ||
      (error = cudaDeviceGetAttribute(&num_sms, cudaDevAttrMultiProcessorCount, device)) !=
          cudaSuccess ||
      (error = cudaDeviceGetAttribute(&cooperative, cudaDevAttrCooperativeLaunch, device)) !=
          cudaSuccess) {
    return error;
  }
  const bool persistent =
      cooperative != 0 && !gru_before && !options.grad_per_step &&
      (row_units <= 32768 || options.grad_persistent);
  auto check = [&]() {
    error = cudaGetLastError();
    return error == cudaSuccess;
  };

  // 1. Recompute the forward.
  if (row_units > 0) {
    {
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
      if ((error = Gemm(proj, partial, stream)) != cudaSuccess) return error;
    }
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
    if ((error = Gemm(dw, partial, stream)) != cudaSuccess) return error;
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
    if ((error = Gemm(du, partial, stream)) != cudaSuccess) return error;
    if (gru_before) {  // the h gate's recurrent input is r*h
      du.a = p.extra;
      du.b = p.proj + 2 * U;
      du.c = static_cast<T*>(args.d_recurrent_kernel) + 2 * U;
      du.n = U;
      if ((error = Gemm(du, partial, stream)) != cudaSuccess) return error;
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
    if ((error = Gemm(dx, partial, stream)) != cudaSuccess) return error;
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
  // The debug knobs, read once per call (as LaunchMaskedRnn does).
  const RnnKernelOptions options = RnnKernelOptionsFromEnvironment();
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
