// Persistent masked recurrence (LSTM, GRU reset_after, SimpleRNN) in fp32
// arithmetic for float32 / float16 / bfloat16 tensors. See the header.
#include "kernels/rnn/masked_rnn_persistent.cuh"

#include <cooperative_groups.h>

#include <algorithm>
#include <type_traits>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

template <typename T>
struct PersistentParams : RecurrenceIo<T> {
  float* hbuf;  // [2, B, U]
  unsigned* counters;
  CellSpec spec;
  bool default_activations;  // activation tanh, recurrent_activation sigmoid
  int gates;
  int units_per_block, unit_slices, batch_per_block;
  int k_splits, column_groups, row_groups, weight_pitch;
  float* scratch;  // [B, U]: GRU reset_after=false r*h (fp32, or T in the global mma mode)
};

constexpr int kWarps = kPersistentWarps;

// The cluster modes' DSMEM and barrier, through cooperative groups on sm_90+.
// Older archs (the portable family runs the global modes there) have neither;
// their cluster instantiations are never launched (kernel choice).
__device__ __forceinline__ void ClusterSync() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cooperative_groups::this_cluster().sync();
#else
  __trap();
#endif
}
template <typename P>
__device__ __forceinline__ P* MapSharedRank(P* pointer, int rank) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  return cooperative_groups::this_cluster().map_shared_rank(pointer, rank);
#else
  __trap();
  return pointer;
#endif
}

// The sum over k splits of partial[ks * split_stride + at], four loads in flight.
__device__ __forceinline__ float SumSplits(const float* partial, size_t at, size_t split_stride,
                                           int k_splits) {
  const float* part = partial + at;
  float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
  int ks = 0;
  for (; ks + 4 <= k_splits; ks += 4) {
    s0 += part[ks * split_stride];
    s1 += part[(ks + 1) * split_stride];
    s2 += part[(ks + 2) * split_stride];
    s3 += part[(ks + 3) * split_stride];
  }
  for (; ks < k_splits; ++ks) s0 += part[ks * split_stride];
  return (s0 + s1) + (s2 + s3);
}

// Stores a 16-bit value to global memory past L1 (the global mma mode's h).
template <typename T>
__device__ __forceinline__ void StoreGlobalCg(T* address, T value) {
  static_assert(sizeof(T) == 2, "16-bit h");
  unsigned short bits;
  memcpy(&bits, &value, 2);
  __stcg(reinterpret_cast<unsigned short*>(address), bits);
}

// kCluster: the blocks of a batch slice form one thread-block cluster; h of the
// slice lives in every block's shared memory (double-buffered), each block
// writes its units' new h into all of them (DSMEM) and a cluster barrier
// replaces the global-memory barrier. Otherwise h goes through L2.
// kResetBefore (GRU reset_after=false, global modes): hh = act(x_h + (r*h) @ U_h)
// needs r of every unit before its product, so a step has two phases, each
// ending at the group barrier: the z and r columns' product, then r*h of the
// block's units through L2; the h columns' product over r*h, then the update.
template <typename T, int RB, int kMode, bool kResetBefore = false>
__global__ void __launch_bounds__(kPersistentThreads, 1)
    PersistentRnnKernel(const PersistentParams<T> p) {
  static_assert(!kResetBefore || kMode == kModeGlobal || kMode == kModeGlobalMma,
                "GRU reset_after=false: global modes only");
  constexpr bool kCluster = kMode == kModeCluster || kMode == kModeClusterMma;
  constexpr bool kMma = kMode == kModeClusterMma || kMode == kModeGlobalMma;
  // Global mma: h of the batch slice through L2 as two T parts, hi = T(h) and
  // lo = T(h - hi) ([2 buffers][2 parts][B][U]), copied into the block's h tile
  // (both parts) after each step's barrier; the product is W h_hi + W h_lo (h
  // in one 16-bit part drifted past 1e-2 on a chaotic fp16 U = 128 recurrence).
  constexpr bool kGlobalMma = kMode == kModeGlobalMma;
  extern __shared__ float4 shared_raw[];
  char* const smem = reinterpret_cast<char*>(shared_raw);
  const int tid = threadIdx.x;
  const int units = p.units;
  const int gate_width = p.gates * units;  // N
  const int uper = p.units_per_block;
  const int columns = p.gates * uper;  // NC
  const int pitch = p.weight_pitch;
  const int unit_slice = blockIdx.x % p.unit_slices;
  const int batch_slice = blockIdx.x / p.unit_slices;
  const int u0 = unit_slice * uper;
  const int b0 = batch_slice * p.batch_per_block;
  const int rows = min(p.batch_per_block, p.batch - b0);  // >= 1 by the plan
  const int padded_rows = p.row_groups * RB;
  const int items = rows * uper;  // (row, unit) pairs whose state this block owns
  const bool alone = p.unit_slices == 1;
  unsigned* const counter = p.counters + batch_slice;

  const SharedLayout layout =
      MakeSharedLayout(kMode, units, p.gates, uper, p.batch_per_block, RB, p.row_groups,
                       p.k_splits, pitch);
  float* const weights = reinterpret_cast<float*>(smem + layout.weights);  // [U][pitch]
  T* const weights_t = reinterpret_cast<T*>(smem + layout.weights);        // mma fragments
  float* const partial = reinterpret_cast<float*>(smem + layout.partial);  // [ks][rows][NC]
  // Cluster: [2][batch_per_block][U] fp32; mma: [2][padded_rows][U + 8] T.
  float* const h_shared = reinterpret_cast<float*>(smem + layout.h_shared);
  T* const h_shared_t = reinterpret_cast<T*>(smem + layout.h_shared);
  float* const h_own = reinterpret_cast<float*>(smem + layout.h_own);
  float* const c_own = reinterpret_cast<float*>(smem + layout.c_own);
  float* const y_own = reinterpret_cast<float*>(smem + layout.y_own);
  float* const rec_bias = reinterpret_cast<float*>(smem + layout.rec_bias);  // [NC]
  const int h_pitch = kMma ? MmaHPitch(units) : units;

  // Weights of this block's units, gate-major columns: c = g * uper + uu.
  // mma: stored as B fragments, [k tile][n tile][lane][4], so that one lane's
  // fragment of one (k tile, n tile) is one 8-byte load.
  const int n_tiles = columns / 8;
  for (int i = tid; i < units * columns; i += blockDim.x) {
    const int k = i / columns, c = i % columns;
    const int g = c / uper, uu = c % uper;
    const T w = p.recurrent_kernel[static_cast<int64_t>(k) * gate_width + g * units + u0 + uu];
    if constexpr (kMma) {
      const int kk = k % 16, n = c % 8;
      const int lane = n * 4 + (kk % 8) / 2;
      const int slot = (kk / 8) * 2 + kk % 2;
      weights_t[((static_cast<size_t>(k / 16) * n_tiles + c / 8) * 32 + lane) * 4 + slot] = w;
    } else {
      weights[k * pitch + c] = ToAcc<float>(w);
    }
  }
  for (int c = tid; c < columns; c += blockDim.x) {
    const int g = c / uper, uu = c % uper;
    rec_bias[c] = p.recurrent_bias ? ToAcc<float>(p.recurrent_bias[g * units + u0 + uu]) : 0.0f;
  }
  for (int i = tid; i < items; i += blockDim.x) {
    const int b = b0 + i / uper, u = u0 + i % uper;
    const int64_t at = static_cast<int64_t>(b) * units + u;
    const float h = p.initial_h ? ToAcc<float>(p.initial_h[at]) : 0.0f;
    h_own[i] = h;
    c_own[i] = p.initial_c ? ToAcc<float>(p.initial_c[at]) : 0.0f;
    y_own[i] = 0.0f;
  }
  if (kMma) {
    // Rows past the batch slice stay zero: they feed the padded rows of the A tiles.
    const int h_elements = 2 * padded_rows * h_pitch;  // cluster: 2 buffers; global: 2 parts
    for (int i = tid; i < h_elements; i += blockDim.x) h_shared_t[i] = FromAcc<T>(0.0f);
  }
  T* const hbuf_t = reinterpret_cast<T*>(p.hbuf);  // global mma: [2][2][B][U] T
  const int64_t batch_units = static_cast<int64_t>(p.batch) * units;
  // hi and lo of a value at `at` (the lo part batch_units further).
  auto store_hi_lo = [&](T* at, float value) {
    if constexpr (sizeof(T) == 2) {
      const T hi = FromAcc<T>(value);
      StoreGlobalCg(at, hi);
      StoreGlobalCg(at + batch_units, FromAcc<T>(value - ToAcc<float>(hi)));
    }
  };
  if constexpr (kCluster) {
    ClusterSync();  // every block of the cluster runs before DSMEM is touched
    for (int i = tid; i < items; i += blockDim.x) {
      const int at = (i / uper) * h_pitch + u0 + i % uper;
      for (int r = 0; r < p.unit_slices; ++r) {
        if constexpr (kMma) {
          MapSharedRank(h_shared_t, r)[at] = FromAcc<T>(h_own[i]);
        } else {
          MapSharedRank(h_shared, r)[at] = h_own[i];
        }
      }
    }
    ClusterSync();
  } else if constexpr (kGlobalMma) {
    for (int i = tid; i < items; i += blockDim.x) {
      store_hi_lo(hbuf_t + static_cast<int64_t>(b0 + i / uper) * units + u0 + i % uper, h_own[i]);
    }
    GroupBarrier(counter, p.unit_slices, alone);
  } else {
    for (int i = tid; i < items; i += blockDim.x) {
      __stcg(p.hbuf + static_cast<int64_t>(b0 + i / uper) * units + u0 + i % uper, h_own[i]);
    }
    GroupBarrier(counter, p.unit_slices, alone);
  }

  // Per-step inputs of this thread's first (row, unit) pair are loaded one step
  // ahead, and its output store is issued after the next barrier: a barrier
  // with release semantics would otherwise wait for them (an L2 round trip).
  const bool has_first = tid < items;
  const int first_b = b0 + (has_first ? tid / uper : 0);
  const int first_u = u0 + (has_first ? tid % uper : 0);
  float x_next[4] = {0.f, 0.f, 0.f, 0.f};
  int mask_next = 1;  // raw mask value: comparing it right away would wait for the load
  auto load_first = [&](int step) {
    const int t_step = p.go_backwards ? p.time - 1 - step : step;
    const int64_t row = static_cast<int64_t>(first_b) * p.time + t_step;
#pragma unroll
    for (int g = 0; g < 4; ++g) {
      if (g < p.gates) x_next[g] = p.xproj[row * gate_width + g * units + first_u];
    }
    if (p.mask != nullptr) {
      mask_next = p.mask_is_int32 ? static_cast<const int32_t*>(p.mask)[row]
                                  : static_cast<const uint8_t*>(p.mask)[row];
    }
  };
  if (has_first) load_first(0);
  T pending_output = FromAcc<T>(0.0f);
  int64_t pending_at = -1;

  const int k4_count = units / 4;
  for (int tau = 0; tau < p.time; ++tau) {
    const int t = p.go_backwards ? p.time - 1 - tau : tau;
    const size_t slice_units = static_cast<size_t>(p.batch_per_block) * units;
    const float* h_cur = kCluster ? h_shared + (tau & 1) * slice_units
                                  : p.hbuf + (tau & 1) * batch_units + static_cast<int64_t>(b0) * units;
    float* h_next = kCluster ? h_shared + ((tau + 1) & 1) * slice_units
                             : p.hbuf + ((tau + 1) & 1) * batch_units + static_cast<int64_t>(b0) * units;

    float x_first[4];
#pragma unroll
    for (int g = 0; g < 4; ++g) x_first[g] = x_next[g];
    const int mask_first = mask_next;
    if (has_first && tau + 1 < p.time) load_first(tau + 1);
    if (pending_at >= 0) {
      p.output[pending_at] = pending_output;
      pending_at = -1;
    }

    // partial[ks][b][c] for the column groups [group_begin, group_begin +
    // group_count) from the slice's h (h_src: FFMA global, rows of `units`
    // floats; tile_src: global mma, rows of `units` T, both in L2).
    auto recurrent_product = [&](const float* h_src, const T* tile_src, int group_begin,
                                 int group_count) {
    const int tasks = p.k_splits * group_count * p.row_groups;
    if constexpr (kGlobalMma) {
      // The slice's h of this step from L2 into the block's h tile (rows past
      // the slice stay zero), 16 bytes per load.
      const int chunks_per_row = units / 8;
      for (int part = 0; part < 2; ++part) {
        const uint4* from = reinterpret_cast<const uint4*>(tile_src + part * batch_units);
        T* const to = h_shared_t + part * padded_rows * h_pitch;
        for (int i = tid; i < rows * chunks_per_row; i += blockDim.x) {
          const int r = i / chunks_per_row, chunk = i % chunks_per_row;
          *reinterpret_cast<uint4*>(to + r * h_pitch + chunk * 8) = __ldcg(from + i);
        }
      }
      __syncthreads();
    }
    if constexpr (kMma) {
      // Warp task = (16-row tile, pair of 8-column tiles, k split).
      const int warp = tid / 32, lane = tid % 32;
      const int group = lane >> 2, quad = lane & 3;
      const int k_tiles = units / 16;
      const T* h_tile = h_shared_t + (kGlobalMma ? 0 : (tau & 1) * padded_rows * h_pitch);
      const uint2* w_frag = reinterpret_cast<const uint2*>(weights_t);
      for (int task = warp; task < tasks; task += kWarps) {
        const int ng = group_begin + task % group_count;
        const int rest = task / group_count;
        const int ks = rest % p.k_splits;
        const int mt = rest / p.k_splits;
        float acc[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
        const T* a_row = h_tile + (mt * 16 + group) * h_pitch + quad * 2;
#pragma unroll 4
        for (int kt = ks; kt < k_tiles; kt += p.k_splits) {
          const int k0 = kt * 16;
          uint32_t a[4];
          a[0] = *reinterpret_cast<const uint32_t*>(a_row + k0);
          a[1] = *reinterpret_cast<const uint32_t*>(a_row + 8 * h_pitch + k0);
          a[2] = *reinterpret_cast<const uint32_t*>(a_row + k0 + 8);
          a[3] = *reinterpret_cast<const uint32_t*>(a_row + 8 * h_pitch + k0 + 8);
          if constexpr (kGlobalMma) {
            const T* a_lo_row = a_row + padded_rows * h_pitch;
            uint32_t a_lo[4];
            a_lo[0] = *reinterpret_cast<const uint32_t*>(a_lo_row + k0);
            a_lo[1] = *reinterpret_cast<const uint32_t*>(a_lo_row + 8 * h_pitch + k0);
            a_lo[2] = *reinterpret_cast<const uint32_t*>(a_lo_row + k0 + 8);
            a_lo[3] = *reinterpret_cast<const uint32_t*>(a_lo_row + 8 * h_pitch + k0 + 8);
#pragma unroll
            for (int j = 0; j < 2; ++j) {
              const uint2 b = w_frag[(static_cast<size_t>(kt) * n_tiles + ng * 2 + j) * 32 + lane];
              Mma16816<T>(acc[j], a, b.x, b.y);
              Mma16816<T>(acc[j], a_lo, b.x, b.y);
            }
          } else {
#pragma unroll
            for (int j = 0; j < 2; ++j) {
              const uint2 b = w_frag[(static_cast<size_t>(kt) * n_tiles + ng * 2 + j) * 32 + lane];
              Mma16816<T>(acc[j], a, b.x, b.y);
            }
          }
        }
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int col = (ng * 2 + j) * 8 + quad * 2;
          float* out = partial + (static_cast<size_t>(ks) * padded_rows + mt * 16 + group) * columns + col;
          *reinterpret_cast<float2*>(out) = make_float2(acc[j][0], acc[j][1]);
          *reinterpret_cast<float2*>(out + 8 * columns) = make_float2(acc[j][2], acc[j][3]);
        }
      }
    } else {
    // Recurrent projection: partial[ks][b][c] = sum over this split's k of
    // h[b][k] * W[k][c]. Column groups vary fastest across lanes: the weight
    // reads are contiguous and the h reads are broadcasts.
    for (int task = tid; task < tasks; task += blockDim.x) {
      const int cg = group_begin + task % group_count;
      const int rest = task / group_count;
      const int ks = rest % p.k_splits;
      const int rg = rest / p.k_splits;
      const float4* h_rows[RB];
#pragma unroll
      for (int r = 0; r < RB; ++r) {
        const int b = min(rg * RB + r, rows - 1);  // padded rows recompute a real one
        h_rows[r] = reinterpret_cast<const float4*>(h_src + static_cast<int64_t>(b) * units);
      }
      float acc[RB][4];
#pragma unroll
      for (int r = 0; r < RB; ++r) {
#pragma unroll
        for (int q = 0; q < 4; ++q) acc[r][q] = 0.0f;
      }
      const float* w_col = weights + cg * 4;
#pragma unroll 2
      for (int k4 = ks; k4 < k4_count; k4 += p.k_splits) {
        float4 hv[RB];
#pragma unroll
        for (int r = 0; r < RB; ++r) hv[r] = kCluster ? h_rows[r][k4] : __ldcg(h_rows[r] + k4);
        const float* w_k = w_col + 4 * k4 * pitch;
        const float4 w0 = *reinterpret_cast<const float4*>(w_k);
        const float4 w1 = *reinterpret_cast<const float4*>(w_k + pitch);
        const float4 w2 = *reinterpret_cast<const float4*>(w_k + 2 * pitch);
        const float4 w3 = *reinterpret_cast<const float4*>(w_k + 3 * pitch);
#pragma unroll
        for (int r = 0; r < RB; ++r) {
          AccumulateRow4x4(acc[r], hv[r], w0, w1, w2, w3);
        }
      }
#pragma unroll
      for (int r = 0; r < RB; ++r) {
        float4* out = reinterpret_cast<float4*>(
            partial + (static_cast<size_t>(ks) * padded_rows + rg * RB + r) * columns + cg * 4);
        *out = make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
      }
    }
    }  // FFMA
    __syncthreads();
    };
    const T* const h_tile_src =
        hbuf_t + (tau & 1) * 2 * batch_units + static_cast<int64_t>(b0) * units;
    if constexpr (kResetBefore) {
      // Phase 1: the z and r columns over h; r*h of this block's units to L2.
      const int gate_groups = p.column_groups / 3;
      recurrent_product(h_cur, h_tile_src, 0, 2 * gate_groups);
      float* const rh_f = p.scratch + static_cast<int64_t>(b0) * units;  // FFMA: fp32
      T* const rh_t = reinterpret_cast<T*>(p.scratch) + static_cast<int64_t>(b0) * units;
      for (int i = tid; i < items; i += blockDim.x) {
        const int b_local = i / uper, uu = i % uper;
        const int u = u0 + uu;
        const float x_r = i == tid ? x_first[1]
                                   : p.xproj[(static_cast<int64_t>(b0 + b_local) * p.time + t) *
                                                 gate_width + units + u];
        const float r = Activate(p.spec.recurrent_activation,
                                 x_r + SumSplits(partial, b_local * columns + uper + uu,
                                                 static_cast<size_t>(padded_rows) * columns,
                                                 p.k_splits) +
                                     rec_bias[uper + uu]);
        const float rh = r * h_own[i];
        if constexpr (kGlobalMma) {
          store_hi_lo(rh_t + b_local * units + u, rh);
        } else {
          __stcg(rh_f + b_local * units + u, rh);
        }
      }
      GroupBarrier(counter, static_cast<unsigned>(p.unit_slices) * (2 * tau + 2), alone);
      // Phase 2: the h columns over r*h.
      recurrent_product(rh_f, rh_t, 2 * gate_groups, gate_groups);
    } else {
      recurrent_product(h_cur, h_tile_src, 0, p.column_groups);
    }

    // Cell update of the (row, unit) pairs this block owns.
    for (int i = tid; i < items; i += blockDim.x) {
      const int b_local = i / uper, uu = i % uper;
      const int b = b0 + b_local, u = u0 + uu;
      const int64_t row = static_cast<int64_t>(b) * p.time + t;
      float x_part[4], rec_part[4];
      bool keep;
      if (i == tid) {
#pragma unroll
        for (int g = 0; g < 4; ++g) x_part[g] = x_first[g];
        keep = mask_first != 0;
      } else {
#pragma unroll
        for (int g = 0; g < 4; ++g) {
          x_part[g] = g < p.gates ? p.xproj[row * gate_width + g * units + u] : 0.0f;
        }
        keep = MaskAt(p.mask, p.mask_is_int32, row);
      }
      // Sum the k-split partials with four loads in flight per gate.
      const size_t split_stride = static_cast<size_t>(padded_rows) * columns;
#pragma unroll
      for (int g = 0; g < 4; ++g) {
        float sum = 0.0f;
        if (g < p.gates) {
          const float* part = partial + static_cast<size_t>(b_local) * columns + g * uper + uu;
          float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
          int ks = 0;
          for (; ks + 4 <= p.k_splits; ks += 4) {
            s0 += part[ks * split_stride];
            s1 += part[(ks + 1) * split_stride];
            s2 += part[(ks + 2) * split_stride];
            s3 += part[(ks + 3) * split_stride];
          }
          for (; ks < p.k_splits; ++ks) s0 += part[ks * split_stride];
          sum = ((s0 + s1) + (s2 + s3)) + rec_bias[g * uper + uu];
        }
        rec_part[g] = sum;
      }
      const float h = h_own[i];
      const float c = c_own[i];
      float c_new;
      float h_new;
      if constexpr (kResetBefore) {
        // rec_part: z's sum from phase 1 (its columns were not rewritten), hh's over r*h.
        const float z = Activate(p.spec.recurrent_activation, x_part[0] + rec_part[0]);
        const float hh = Activate(p.spec.activation, x_part[2] + rec_part[2]);
        h_new = z * h + (1.0f - z) * hh;
        c_new = c;
      } else {
        // The default activations without the per-call switch: the four gate
        // activations are then independent instruction streams the compiler interleaves.
        h_new = p.default_activations
                    ? CellUpdateTanhSigmoid(p.spec.cell, x_part, rec_part, h, c, &c_new)
                    : CellUpdate(p.spec, x_part, rec_part, h, c, &c_new);
      }
      float y;
      if (keep) {
        h_own[i] = h_new;
        c_own[i] = c_new;
        y = RoundTo<T>(h_new);
      } else {
        y = p.zero_output_for_mask ? 0.0f : y_own[i];
      }
      y_own[i] = y;
      if (p.return_sequences) {
        const int64_t at = (static_cast<int64_t>(b) * p.time + tau) * units + u;
        if (i == tid) {
          pending_output = FromAcc<T>(y);
          pending_at = at;
        } else {
          p.output[at] = FromAcc<T>(y);
        }
      }
      if constexpr (kGlobalMma) {
        store_hi_lo(hbuf_t + ((tau + 1) & 1) * 2 * batch_units + static_cast<int64_t>(b) * units + u,
                    h_own[i]);
      } else if constexpr (kMma) {
        T* const next = h_shared_t + ((tau + 1) & 1) * padded_rows * h_pitch;
        const T value = FromAcc<T>(h_own[i]);
        if (alone) {
          next[b_local * h_pitch + u] = value;
        } else {
          for (int r = 0; r < p.unit_slices; ++r) {
            MapSharedRank(next, r)[b_local * h_pitch + u] = value;
          }
        }
      } else if (kCluster && alone) {
        h_next[b_local * units + u] = h_own[i];  // own shared memory, __syncthreads orders it
      } else if constexpr (kCluster) {
        for (int r = 0; r < p.unit_slices; ++r) {
          MapSharedRank(h_next, r)[b_local * units + u] = h_own[i];
        }
      } else {
        __stcg(h_next + static_cast<int64_t>(b_local) * units + u, h_own[i]);
      }
    }
    if (kCluster && !alone) {
      ClusterSync();
    } else {
      GroupBarrier(counter,
                   static_cast<unsigned>(p.unit_slices) * (kResetBefore ? 2 * tau + 3 : tau + 2),
                   alone);
    }
  }
  if (pending_at >= 0) p.output[pending_at] = pending_output;

  for (int i = tid; i < items; i += blockDim.x) {
    const int b = b0 + i / uper, u = u0 + i % uper;
    const int64_t at = static_cast<int64_t>(b) * units + u;
    if (p.final_h) p.final_h[at] = FromAcc<T>(h_own[i]);
    if (p.final_c) p.final_c[at] = FromAcc<T>(c_own[i]);
    if (!p.return_sequences && p.output) p.output[at] = FromAcc<T>(y_own[i]);
  }
}

// Clusters (cluster modes) or blocks per SM (global mode) the device holds at
// once for the plan; also sets the kernel's attributes.
template <typename Kernel>
cudaError_t Occupancy(Kernel kernel, const PersistentPlan& plan, bool cluster, int* value) {
  if (cluster) {
    return MaxActiveClusters(kernel, kPersistentThreads, plan.shared_bytes, plan.unit_slices,
                             value);
  }
  return MaxActiveBlocksPerSm(kernel, kPersistentThreads, plan.shared_bytes, value);
}

template <typename T, int RB, int kMode, bool kResetBefore>
int LaunchTyped(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                const PersistentPlan& plan, const PersistentBuffers& buffers, cudaStream_t stream,
                int* active_clusters) {
  PersistentParams<T> p;
  FillRecurrenceIo(config, args, buffers.xproj, &p);
  p.hbuf = buffers.hbuf;
  p.scratch = buffers.scratch;
  p.counters = buffers.counters;
  p.spec = CellSpec{config.cell, config.activation, config.recurrent_activation};
  p.default_activations = config.activation == Activation::kTanh &&
                          (config.cell == RnnCell::kSimpleRnn ||
                           config.recurrent_activation == Activation::kSigmoid);
  p.gates = GateCount(config.cell);
  p.units_per_block = plan.units_per_block;
  p.unit_slices = plan.unit_slices;
  p.batch_per_block = plan.batch_per_block;
  p.k_splits = plan.k_splits;
  p.column_groups = plan.column_groups;
  p.row_groups = plan.row_groups;
  p.weight_pitch = plan.weight_pitch;

  constexpr bool kCluster = kMode == kModeCluster || kMode == kModeClusterMma;
  auto kernel = PersistentRnnKernel<T, RB, kMode, kResetBefore>;
  int occupancy = 0;
  cudaError_t error = Occupancy(kernel, plan, kCluster, &occupancy);
  if (error != cudaSuccess) return error;
  if (kCluster) {
    // Clusters are co-scheduled by the hardware and independent of each other:
    // no cooperative launch (and no grid-wide co-residency) needed.
    const KernelLaunch launch(plan.blocks(), kPersistentThreads, plan.shared_bytes,
                               plan.unit_slices, stream);
    const int clusters = occupancy;
    if (clusters < 1) return cudaErrorCooperativeLaunchTooLarge;  // caller takes another plan
    if (clusters < plan.batch_slices) {
      // Not all clusters fit at once (a cluster must sit in one GPC): a second
      // wave would double the time. Ask for a plan with fewer batch slices.
      if (active_clusters) *active_clusters = clusters;
      return cudaErrorCooperativeLaunchTooLarge;
    }
    return cudaLaunchKernelEx(&launch.config, kernel, p);
  }
  if (occupancy < 1) return cudaErrorCooperativeLaunchTooLarge;
  error = cudaMemsetAsync(buffers.counters, 0, sizeof(unsigned) * plan.batch_slices, stream);
  if (error != cudaSuccess) return error;
  void* kernel_args[] = {&p};
  error = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel), dim3(plan.blocks()),
                                      dim3(kPersistentThreads), kernel_args, plan.shared_bytes,
                                      stream);
  return error;
}

// The kernel for the plan's mode and row tile; GRU reset_after=false has
// global-mode kernels only (the planner gives it no cluster plan).
template <typename T, int kMode, bool kResetBefore>
int LaunchForMode(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const PersistentPlan& plan, const PersistentBuffers& buffers,
                  cudaStream_t stream, int* active_clusters) {
  if constexpr (IsMmaMode(kMode)) {
    // The mma modes' row tile is 16 rows (one m16n8k16 A tile).
    return LaunchTyped<T, 16, kMode, kResetBefore>(config, args, plan, buffers, stream,
                                                   active_clusters);
  } else {
    switch (plan.rows_per_thread) {
      case 1:
        return LaunchTyped<T, 1, kMode, kResetBefore>(config, args, plan, buffers, stream, active_clusters);
      case 2:
        return LaunchTyped<T, 2, kMode, kResetBefore>(config, args, plan, buffers, stream, active_clusters);
      case 4:
        return LaunchTyped<T, 4, kMode, kResetBefore>(config, args, plan, buffers, stream, active_clusters);
      case 8:
        return LaunchTyped<T, 8, kMode, kResetBefore>(config, args, plan, buffers, stream, active_clusters);
    }
    return cudaErrorInvalidValue;
  }
}

template <typename T>
int LaunchForPlan(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const PersistentPlan& plan, const PersistentBuffers& buffers,
                  cudaStream_t stream, int* active_clusters) {
  const bool reset_before = config.cell == RnnCell::kGru && !config.reset_after;
  if (reset_before && plan.cluster) return cudaErrorInvalidValue;
  if (plan.mma) {
    if constexpr (std::is_same<T, float>::value) {
      return cudaErrorInvalidValue;
    } else {
      if (reset_before) {
        return LaunchForMode<T, kModeGlobalMma, true>(config, args, plan, buffers, stream, active_clusters);
      }
      if (!plan.cluster) {
        return LaunchForMode<T, kModeGlobalMma, false>(config, args, plan, buffers, stream, active_clusters);
      }
      return LaunchForMode<T, kModeClusterMma, false>(config, args, plan, buffers, stream, active_clusters);
    }
  }
  if (reset_before) {
    return LaunchForMode<T, kModeGlobal, true>(config, args, plan, buffers, stream, active_clusters);
  }
  if (plan.cluster) {
    return LaunchForMode<T, kModeCluster, false>(config, args, plan, buffers, stream, active_clusters);
  }
  return LaunchForMode<T, kModeGlobal, false>(config, args, plan, buffers, stream, active_clusters);
}

}  // namespace

int LaunchPersistentRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                        const PersistentPlan& plan, const PersistentBuffers& buffers,
                        cudaStream_t stream, int* active_clusters) {
  switch (args.dtype) {
    case DType::kFloat32:
      return LaunchForPlan<float>(config, args, plan, buffers, stream, active_clusters);
    case DType::kFloat16:
      return LaunchForPlan<__half>(config, args, plan, buffers, stream, active_clusters);
    case DType::kBFloat16:
      return LaunchForPlan<__nv_bfloat16>(config, args, plan, buffers, stream, active_clusters);
    case DType::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
