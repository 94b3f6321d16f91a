// Tensor-core block masked recurrence (every cell and activation), float16,
// bfloat16 and float32 tensors, fp32 accumulation and fp32 state. See the header.
#include "kernels/rnn/masked_rnn_mma_block.cuh"

#include <type_traits>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

constexpr int kRows = 8;  // batch rows per block: the n8 of an m16n8k16 tile

template <typename T>
struct MmaBlockParams : RecurrenceIo<T> {
  CellSpec spec;
};

// MmaOperand (fp32 as W_hi + W_lo), RawBits: rnn_device.cuh, shared with the row-group kernel.

// h in shared memory: per batch row 4 KT packets of 16 bytes, packet g =
// [hi of units 4g..4g+3][lo of the same] (one ld.shared.v4 gives a lane both
// parts' B fragments of a k tile). Odd rows swap the 64-byte halves of each
// 128 bytes, so that the 8 lanes of a 16-byte access phase (rows gid, gid + 1)
// hit distinct banks.
template <int KT>
__device__ __forceinline__ unsigned PacketAt(int row, int group) {
  return static_cast<unsigned>(row * 64 * KT + ((group ^ (4 * (row & 1))) * 16));
}

// The cell with its gates' pre-activations (x: input projection, rec: the
// recurrent product plus the recurrent bias), h and c before the step.
// kDefault: tanh / sigmoid from ex2.approx / rcp.approx (~1e-7 absolute error);
// else the call's activations (CellUpdate, rnn_device.cuh).
template <RnnCell kCell, bool kDefault>
__device__ __forceinline__ float CellStep(const CellSpec& spec, const float* x, const float* rec,
                                          float h, float c, float* c_new) {
  if constexpr (kDefault) {
    *c_new = c;
    if constexpr (kCell == RnnCell::kLstm) {
      const float i = FastSigmoid(x[0] + rec[0]);
      const float f = FastSigmoid(x[1] + rec[1]);
      const float cand = FastTanh(x[2] + rec[2]);
      const float o = FastSigmoid(x[3] + rec[3]);
      *c_new = fmaf(f, c, i * cand);
      return o * FastTanh(*c_new);
    } else if constexpr (kCell == RnnCell::kGru) {
      const float z = FastSigmoid(x[0] + rec[0]);
      const float r = FastSigmoid(x[1] + rec[1]);
      const float hh = FastTanh(fmaf(r, rec[2], x[2]));
      return z * h + (1.0f - z) * hh;
    } else {
      return FastTanh(x[0] + rec[0]);
    }
  } else {
    const CellSpec known{kCell, spec.activation, spec.recurrent_activation};
    return CellUpdate(known, x, rec, h, c, c_new);
  }
}

// Thread layout (lane = 4 gid + tig, half = lane / 16), as the row-group kernel:
// - warp w owns m-tiles i = 0, 1: units 8 w + 4 i .. + 3; tile row m = 4 gate + j
//   is gate `gate` of unit 8 w + 4 i + j. Accumulator d[e] holds row gid + 8 (e / 2),
//   batch row 2 tig + e % 2.
// - cell: after one exchange with lane ^ 16 a lane holds the gates of unit
//   8 w + 4 i + gid % 4 and batch row n = 2 tig + half, for both tiles.
// - k order: in k tile kt the MMA's k positions 2 tig + 8 e + j (e, j = 0, 1)
//   are units 16 kt + 4 tig + 2 e + j, so a lane's B fragments of both parts
//   are the one packet of unit group 4 kt + tig (batch row gid).
// kResetBefore (GRU reset_after=false): the step's first product (over h)
// gives z and r; r * h goes to shared memory; after a block barrier the second
// product (over r * h) gives the candidate's recurrent part.
template <typename T, int KT, RnnCell kCell, bool kResetBefore, bool kDefault>
__global__ void __launch_bounds__(MmaBlockThreads(KT), 1) MmaBlockRnnKernel(const MmaBlockParams<T> p) {
  using M = typename MmaOperand<T>::type;
  constexpr bool kSplitWeights = !std::is_same<M, T>::value;  // fp32: W = W_hi + W_lo
  constexpr int G = kCell == RnnCell::kLstm ? 4 : (kCell == RnnCell::kGru ? 3 : 1);
  constexpr int TPW = kMmaBlockTilesPerWarp;
  // Steps of xproj / mask loaded ahead: one (two spilled at 65-128 units).
  constexpr int kAhead = 1;
  constexpr unsigned kBufferBytes = MmaBlockHBufferBytes(KT);
  static_assert(KT % 2 == 0, "packet swizzle needs 8 packets per 128 bytes");

  extern __shared__ float4 shared_raw[];
  char* const smem = reinterpret_cast<char*>(shared_raw);
  constexpr unsigned h_base = 0;                                   // [2][rows][4 KT packets]
  constexpr unsigned rh_base = h_base + 2 * kBufferBytes;          // r * h (kResetBefore)
  constexpr unsigned lo_base = rh_base + (kResetBefore ? kBufferBytes : 0);  // fp32: W_lo
  constexpr unsigned stage_base =
      lo_base + (kSplitWeights ? MmaBlockWeightLoBytes(KT) : 0);  // the weights on their way in
  // The product's loads as volatile asm: they stay where the loop puts them
  // (one k tile ahead of its MMAs); plain loads were all hoisted to the top of
  // the product and spilled the A fragments.
  const unsigned smem_address = SharedAddress(shared_raw);
  auto load16 = [smem_address](unsigned at) {
    uint4 r;
    asm volatile("ld.shared.v4.b32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
                 : "r"(smem_address + at)
                 : "memory");
    return r;
  };

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int gid = lane >> 2, tig = lane & 3, half = lane >> 4;
  const int units = p.units;
  const int n_cols = G * units;
  const int b0 = blockIdx.x * kRows;
  const int rows = min(kRows, p.batch - b0);
  const int u_warp = warp * TPW * kUnitsPerWarp;

  // The warp's A fragments: a[i][kt][e] holds tile rows gid + 8 (e & 1) at
  // units k, k + 1 with k = 16 kt + 4 tig + 2 (e >> 1) (the packet order).
  // The recurrent kernel goes through shared memory 8 rows of K at a time
  // (coalesced loads; a lane's k positions of a k tile lie in one half of it,
  // rows 4 (tig & 1) + 2 (e >> 1) + j of stage part 2 kt + tig / 2): loaded
  // straight from global memory, every lane's 64-128 scattered loads were in
  // flight at once and spilled.
  T* const stage = reinterpret_cast<T*>(smem + stage_base);
  auto stage_rows = [&](int part) {
    __syncthreads();  // the previous part has been read
    const int k0 = 8 * part;
    const int count = max(0, min(8, units - k0)) * n_cols;  // rows past K are zero
    const T* const src = p.recurrent_kernel + static_cast<int64_t>(k0) * n_cols;
    for (int idx = threadIdx.x; idx < 8 * n_cols; idx += blockDim.x) {
      stage[idx] = idx < count ? src[idx] : T(0.0f);
    }
    __syncthreads();
  };
  auto staged = [&](int i, int e, int j) {
    const int m = gid + 8 * (e & 1);
    const int gate = m >> 2, unit = u_warp + kUnitsPerWarp * i + (m & 3);
    const int r = 4 * (tig & 1) + 2 * (e >> 1) + j;
    return (gate < G && unit < units) ? ToAcc<float>(stage[r * n_cols + gate * units + unit])
                                      : 0.0f;
  };
  // fp32: the warp's weights scaled by 2^scale_exp (max |w| in [2^14, 2^15))
  // before the split, so W_lo stays clear of fp16's subnormals; the products
  // are scaled back (exactly) after the k loop. The maximum takes a pass of
  // its own over the staged rows.
  int scale_exp = 0;
  if constexpr (kSplitWeights) {
    float largest = 0.0f;
#pragma unroll 1
    for (int part = 0; part < 2 * KT; ++part) {
      stage_rows(part);
      if ((tig >> 1) == (part & 1)) {
#pragma unroll
        for (int i = 0; i < TPW; ++i) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            largest = fmaxf(largest, fmaxf(fabsf(staged(i, e, 0)), fabsf(staged(i, e, 1))));
          }
        }
      }
    }
    scale_exp = min(WarpWeightScaleExponent(largest), 126);  // 2^-scale_exp stays normal
  }
  const float unscale = ldexpf(1.0f, -scale_exp);
  // W_lo fragments of (tile i, k tile kt): 512 bytes, lane l's 16 at 16 l.
  auto lo_at = [&](int i, int kt) {
    return lo_base + static_cast<unsigned>(((warp * TPW + i) * KT + kt) * 512 + 16 * lane);
  };
  uint32_t a[TPW][KT][4];
#pragma unroll
  for (int part = 0; part < 2 * KT; ++part) {
    const int kt = part / 2;
    stage_rows(part);
    if ((tig >> 1) != (part & 1)) continue;
#pragma unroll
    for (int i = 0; i < TPW; ++i) {
      uint32_t lo[4] = {0, 0, 0, 0};
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        if constexpr (kSplitWeights) {
          SplitScaledWeightPair(staged(i, e, 0), staged(i, e, 1), scale_exp, &a[i][kt][e],
                                &lo[e]);
        } else {
          a[i][kt][e] = RoundBits<M>(staged(i, e, 0)) | RoundBits<M>(staged(i, e, 1)) << 16;
        }
      }
      // Written and read by this lane only: no barrier needed for them.
      if constexpr (kSplitWeights) {
        *reinterpret_cast<uint4*>(smem + lo_at(i, kt)) = make_uint4(lo[0], lo[1], lo[2], lo[3]);
      }
    }
  }

  // This lane's cells: batch row b0 + n, unit unit_of[i] of tile i.
  const int n = 2 * tig + half;
  const bool row_ok = n < rows;
  int unit_of[TPW];
  bool valid[TPW];
#pragma unroll
  for (int i = 0; i < TPW; ++i) {
    unit_of[i] = u_warp + kUnitsPerWarp * i + (gid & 3);
    valid[i] = row_ok && unit_of[i] < units;
  }
  const int64_t row = b0 + (row_ok ? n : 0);  // a valid row for the loads of idle lanes
  // The recurrent bias (GRU reset_after=True only: added to h @ U before r
  // scales it), as fp32 in the staging area, now free; read at each step (in
  // registers, fp32 GRU spilled).
  constexpr bool kRecurrentBias = kCell == RnnCell::kGru && !kResetBefore;
  float* const bias_s = reinterpret_cast<float*>(smem + stage_base);
  if constexpr (kRecurrentBias) {
    __syncthreads();  // every lane has its fragments out of the staging area
    for (int idx = threadIdx.x; idx < n_cols; idx += blockDim.x) {
      bias_s[idx] = p.recurrent_bias ? ToAcc<float>(p.recurrent_bias[idx]) : 0.0f;
    }
  }
  auto rec_bias = [&](int i, int g) {
    float v;
    asm volatile("ld.shared.f32 %0, [%1];\n"
                 : "=f"(v)
                 : "r"(smem_address + stage_base +
                       4 * static_cast<unsigned>(g * units + (unit_of[i] < units ? unit_of[i] : 0)))
                 : "memory");
    return v;
  };
  float h[TPW], c[TPW], y[TPW];
#pragma unroll
  for (int i = 0; i < TPW; ++i) {
    const int64_t at = row * units + (valid[i] ? unit_of[i] : 0);
    h[i] = (valid[i] && p.initial_h) ? ToAcc<float>(p.initial_h[at]) : 0.0f;
    c[i] = (valid[i] && p.initial_c) ? ToAcc<float>(p.initial_c[at]) : 0.0f;
    y[i] = 0.0f;
  }

  // A (row n, unit) value into an h-layout buffer as hi + lo. Every lane writes
  // all its cells each step, so every position of a buffer is written (idle
  // cells and padding units as 0: nothing NaN reaches the product).
  auto store_hi_lo = [&](unsigned buffer, int i, float value) {
    const unsigned at = buffer + PacketAt<KT>(n, unit_of[i] / kUnitsPerWarp) + 2 * (gid & 3);
    const M hi = FromAcc<M>(value);
    *reinterpret_cast<M*>(smem + at) = hi;
    *reinterpret_cast<M*>(smem + at + 8) = FromAcc<M>(value - ToAcc<float>(hi));
  };
#pragma unroll
  for (int i = 0; i < TPW; ++i) store_hi_lo(h_base, i, valid[i] ? h[i] : 0.0f);

  // Inputs of step tau + kAhead are loaded into registers while step tau runs
  // (register slot s of the loop below).
  const int64_t t_step = p.go_backwards ? -1 : 1;
  const int t_first = p.go_backwards ? p.time - 1 : 0;
  const int64_t first = row * p.time + t_first;
  const float* x_src = p.xproj + first * n_cols + u_warp + (gid & 3);
  const int mask_size = p.mask_is_int32 ? 4 : 1;
  const char* mask_at = static_cast<const char*>(p.mask) + first * mask_size;
  const int64_t mask_advance = t_step * mask_size;
  T* out = p.output + row * p.time * units + u_warp + (gid & 3);
  const int64_t x_advance = t_step * n_cols;
  const bool has_mask = p.mask != nullptr;
  const bool int_mask = p.mask_is_int32;
  float x_next[kAhead][TPW][4];
  int mask_next[kAhead];
  int loads_left = p.time;
  auto load_step = [&](int s) {  // s: register slot (compile-time after unrolling)
    const bool live = loads_left > 0;
#pragma unroll
    for (int i = 0; i < TPW; ++i) {
#pragma unroll
      for (int g = 0; g < 4; ++g) {
        // Plain loads: __ldg ones may be hoisted above WaitForPreviousGrid.
        x_next[s][i][g] =
            (g < G && live && valid[i]) ? x_src[g * units + kUnitsPerWarp * i] : 0.0f;
      }
    }
    mask_next[s] = 1;
    if (live && has_mask && row_ok) {
      mask_next[s] = int_mask ? __ldg(reinterpret_cast<const int32_t*>(mask_at))
                              : __ldg(reinterpret_cast<const uint8_t*>(mask_at));
    }
    if (live) {
      x_src += x_advance;
      mask_at += mask_advance;
    }
    --loads_left;
  };
  WaitForPreviousGrid();  // the input projection (xproj) is complete from here on
#pragma unroll
  for (int s = 0; s < kAhead; ++s) load_step(s);

  // B fragments of k tile kt: row gid, packet 4 kt + tig, i.e. (PacketAt's
  // swizzle) read_at[kt & 1] + 128 (kt >> 1).
  unsigned read_at[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    read_at[r] = static_cast<unsigned>(gid * 64 * KT + 16 * tig + 64 * (r ^ (gid & 1)));
  }
  // rec[i][g]: gate g of this lane's cell of tile i, summed over the k tiles,
  // from the buffer at `source` (h or r * h).
  auto product = [&](unsigned source, float (&rec)[TPW][4]) {
    float acc[TPW][2][4];
#pragma unroll
    for (int i = 0; i < TPW; ++i) {
#pragma unroll
      for (int q = 0; q < 2; ++q) {
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[i][q][e] = 0.0f;
      }
    }
    // Software pipelined: k tile kt + 1's B fragments are loaded before k
    // tile kt's MMAs; fp32's W_lo fragments of k tile kt before its h MMAs.
    auto load_b = [&](int kt) { return load16(source + read_at[kt & 1] + 128 * (kt >> 1)); };
    uint4 b = load_b(0);
#pragma unroll
    for (int kt = 0; kt < KT; ++kt) {
      const uint4 b_now = b;
      if (kt + 1 < KT) b = load_b(kt + 1);
      uint4 w_lo[TPW];
      if constexpr (kSplitWeights) {
#pragma unroll
        for (int i = 0; i < TPW; ++i) w_lo[i] = load16(lo_at(i, kt));
      }
#pragma unroll
      for (int i = 0; i < TPW; ++i) {
        Mma16816<M>(acc[i][0], a[i][kt], b_now.x, b_now.y);  // hi
        Mma16816<M>(acc[i][1], a[i][kt], b_now.z, b_now.w);  // lo
      }
      if constexpr (kSplitWeights) {
#pragma unroll
        for (int i = 0; i < TPW; ++i) {
          const uint32_t a_lo[4] = {w_lo[i].x, w_lo[i].y, w_lo[i].z, w_lo[i].w};
          Mma16816<M>(acc[i][kt & 1], a_lo, b_now.x, b_now.y);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < TPW; ++i) {
      float d[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        d[e] = acc[i][0][e] + acc[i][1][e];
        if constexpr (kSplitWeights) d[e] *= unscale;
      }
      // Lanes < 16 hold gates 0 and 2, lanes >= 16 gates 1 and 3, both for
      // rows 2 tig and 2 tig + 1: swap so each lane has all gates of one row.
      const float got_a = __shfl_xor_sync(0xffffffffu, half ? d[0] : d[1], 16);
      const float got_b = __shfl_xor_sync(0xffffffffu, half ? d[2] : d[3], 16);
      rec[i][0] = half ? got_a : d[0];
      rec[i][1] = half ? d[1] : got_a;
      rec[i][2] = half ? got_b : d[2];
      rec[i][3] = half ? d[3] : got_b;
    }
  };

  const bool store_output = p.return_sequences;
  const bool zero_masked = p.zero_output_for_mask;
  __syncthreads();  // h of step 0 is in buffer 0
  for (int tau0 = 0; tau0 < p.time; tau0 += kAhead) {
#pragma unroll
    for (int s = 0; s < kAhead; ++s) {
      const int tau = tau0 + s;
      if (tau >= p.time) break;
      const unsigned cur = h_base + (tau & 1) * kBufferBytes;
      const unsigned next = h_base + ((tau + 1) & 1) * kBufferBytes;
      float rec[TPW][4];
      product(cur, rec);
      const bool keep = mask_next[s] != 0;
      float h_new[TPW], c_new[TPW];
      if constexpr (kResetBefore) {
        // z and r from the product over h; r * h of this lane's cells to shared
        // memory; the candidate's product over r * h after the barrier.
        float z[TPW];
#pragma unroll
        for (int i = 0; i < TPW; ++i) {
          const float* x = x_next[s][i];
          float r;
          if constexpr (kDefault) {
            z[i] = FastSigmoid(x[0] + rec[i][0]);
            r = FastSigmoid(x[1] + rec[i][1]);
          } else {
            z[i] = Activate(p.spec.recurrent_activation, x[0] + rec[i][0]);
            r = Activate(p.spec.recurrent_activation, x[1] + rec[i][1]);
          }
          store_hi_lo(rh_base, i, valid[i] ? r * h[i] : 0.0f);
        }
        __syncthreads();
        float rec_h[TPW][4];
        product(rh_base, rec_h);
#pragma unroll
        for (int i = 0; i < TPW; ++i) {
          const float pre = x_next[s][i][2] + rec_h[i][2];
          const float hh = kDefault ? FastTanh(pre) : Activate(p.spec.activation, pre);
          h_new[i] = z[i] * h[i] + (1.0f - z[i]) * hh;
          c_new[i] = c[i];
        }
      } else {
#pragma unroll
        for (int i = 0; i < TPW; ++i) {
          if constexpr (kRecurrentBias) {
#pragma unroll
            for (int g = 0; g < G; ++g) rec[i][g] += rec_bias(i, g);
          }
          h_new[i] = CellStep<kCell, kDefault>(p.spec, x_next[s][i], rec[i], h[i], c[i], &c_new[i]);
        }
      }
#pragma unroll
      for (int i = 0; i < TPW; ++i) {
        h[i] = keep ? h_new[i] : h[i];
        c[i] = keep ? c_new[i] : c[i];
        y[i] = keep ? RoundTo<T>(h_new[i]) : (zero_masked ? 0.0f : y[i]);
        store_hi_lo(next, i, valid[i] ? h[i] : 0.0f);
        if (store_output && valid[i]) out[kUnitsPerWarp * i] = FromAcc<T>(y[i]);
      }
      out += units;
      load_step(s);
      __syncthreads();  // h of step tau + 1 is complete; buffer cur may be rewritten
    }
  }

#pragma unroll
  for (int i = 0; i < TPW; ++i) {
    if (!valid[i]) continue;
    const int64_t at = row * units + unit_of[i];
    if (p.final_h) p.final_h[at] = FromAcc<T>(h[i]);
    if (p.final_c) p.final_c[at] = FromAcc<T>(c[i]);
    if (!p.return_sequences && p.output) p.output[at] = FromAcc<T>(y[i]);
  }
}

template <typename T, int KT, RnnCell kCell, bool kResetBefore, bool kDefault>
cudaError_t LaunchKernel(const MmaBlockParams<T>& p, const MmaBlockPlan& plan,
                         cudaStream_t stream) {
  const auto kernel = MmaBlockRnnKernel<T, KT, kCell, kResetBefore, kDefault>;
  cudaError_t error = EnsureDynamicSharedMemory(kernel, plan.shared_bytes);
  if (error != cudaSuccess) return error;
  const KernelLaunch launch(plan.blocks, MmaBlockThreads(KT), plan.shared_bytes, 0, stream,
                            plan.overlap_projection);
  return cudaLaunchKernelEx(&launch.config, kernel, p);
}

template <typename T, RnnCell kCell, bool kResetBefore>
cudaError_t LaunchForActivations(const MmaBlockParams<T>& p, const MmaBlockPlan& plan,
                                 bool default_activations, cudaStream_t stream) {
  switch (plan.k_tiles) {
    case 4:
      return default_activations
                 ? LaunchKernel<T, 4, kCell, kResetBefore, true>(p, plan, stream)
                 : LaunchKernel<T, 4, kCell, kResetBefore, false>(p, plan, stream);
    case 8:
      return default_activations
                 ? LaunchKernel<T, 8, kCell, kResetBefore, true>(p, plan, stream)
                 : LaunchKernel<T, 8, kCell, kResetBefore, false>(p, plan, stream);
  }
  return cudaErrorInvalidValue;
}

template <typename T>
int LaunchForType(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const MmaBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  MmaBlockParams<T> p;
  FillRecurrenceIo(config, args, xproj, &p);
  p.spec = CellSpec{config.cell, config.activation, config.recurrent_activation};
  const bool default_activations =
      config.activation == Activation::kTanh &&
      (config.cell == RnnCell::kSimpleRnn || config.recurrent_activation == Activation::kSigmoid);
  switch (config.cell) {
    case RnnCell::kLstm:
      return LaunchForActivations<T, RnnCell::kLstm, false>(p, plan, default_activations, stream);
    case RnnCell::kGru:
      return config.reset_after
                 ? LaunchForActivations<T, RnnCell::kGru, false>(p, plan, default_activations,
                                                                 stream)
                 : LaunchForActivations<T, RnnCell::kGru, true>(p, plan, default_activations,
                                                                stream);
    case RnnCell::kSimpleRnn:
      return LaunchForActivations<T, RnnCell::kSimpleRnn, false>(p, plan, default_activations,
                                                                 stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

int LaunchMmaBlockRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const MmaBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  switch (args.dtype) {
    case DType::kFloat16:
      return LaunchForType<__half>(config, args, plan, xproj, stream);
    case DType::kBFloat16:
      return LaunchForType<__nv_bfloat16>(config, args, plan, xproj, stream);
    case DType::kFloat32:
      return LaunchForType<float>(config, args, plan, xproj, stream);
    default:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
