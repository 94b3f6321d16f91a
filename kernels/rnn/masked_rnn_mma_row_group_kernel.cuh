// The tensor-core row-group kernel's template and launch logic (see
// masked_rnn_mma_row_group.cuh), included by its two translation units:
// masked_rnn_mma_row_group.cu instantiates the default cells (LSTM, GRU
// reset_after with tanh/sigmoid), masked_rnn_mma_row_group_variants.cu the
// variants (any activation, SimpleRNN, GRU reset_after=False), so that the two
// ptxas runs (~10 minutes each at sm_90a) go in parallel and the default
// kernels keep their code. Everything here is in an unnamed namespace: each
// unit holds its own instantiations.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_KERNEL_CUH_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_KERNEL_CUH_

#include "kernels/rnn/masked_rnn_mma_row_group.cuh"

#include <algorithm>
#include <type_traits>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"
#include "kernels/rnn/row_group_layout.h"
#include "kernels/rnn/step_stamps.cuh"
#include "kernels/rnn/wgmma_sm90.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

constexpr int kMaxClusterSize = 16;
constexpr int kMaxWaves = 2;      // of 32-row clusters; more: the sliced persistent kernel

// Warps per block (W): 4 or 8. Register budget: a k tile of A costs 4
// registers; 32 k tiles (128) leave room for the rest at 256 threads.
// h in shared memory (row_group_layout.h): packets, or with bulk copies core
// matrices; either way region r holds the units of block r, so a block sends
// its whole h of a step to a peer as ONE contiguous bulk copy (the copy
// engine, not 16-byte stores: st.async of each packet to each peer cost
// ~1.4 ns per store per SM, 1024 stores per SM per step at H = 512, B = 8).
// Regions past the cluster (padding units up to 16 k_tiles) stay zero.
// A bulk copy costs more latency than a st.async, though: few rows still go
// as a st.async per packet (H100, fp16, one row: H = 512 1.28 us/step with
// st.async, 1.65 with bulk copies; 8 rows 2.49 and 1.85; at 256 stores per
// block and step, H = 128 B = 32, bulk copies are 2% faster). A copy of a small
// region is not worth it either: at 256 stores per block and step, 16-block
// clusters copying 256-byte regions ran slower than st.async (H100, T = 512:
// H = 256 B = 4 0.566 vs 0.510 ms, H = 512 B = 2 0.822 vs 0.667), 8-block
// clusters with 512-byte regions 0-5% faster (H = 128 B = 8, 16).
constexpr int kMinBulkStores = 256;
constexpr int kMinBulkPackets = 32;  // 16-byte packets per block region: 512 bytes
// GRU reset_after=False sends h and r * h as st.async packets, each block
// W x rows x cluster stores per exchange, two exchanges a step: at 4096 (B =
// 128, H = 512: 32 rows, 16 blocks of 8 warps) it ran 1.87 ms where the
// persistent kernel took 1.55 ms; at 1024 (B = 8, 32, H = 512) 0.48 ms, half
// the persistent kernel's time (H200, fp16, T = 100). Past this it declines.
constexpr int kMaxResetBeforeStores = 2048;
// With bulk copies h is kept as the core matrices the warpgroup MMA (wgmma)
// reads B from: one wgmma per k tile reads h once for the 4 warps, where each
// warp's mma.sync read all of it (32 KB per step at H = 256, B = 8); a probe
// (bench/probes/wgmma_probe.cu, H100): 4-warp step product 441 -> 368 cycles.
// It needs the arch-specific sm_90a build; elsewhere (and for fp32) the
// core matrices are read with ldmatrix + mma.sync.
constexpr bool kHasWgmma = TFTRT_MASKING_HAS_WGMMA != 0;

// The cell code a row-group kernel holds.
enum class RowGroupCode {
  kDefault,        // LSTM, GRU reset_after: tanh/sigmoid, inline (the default kernels)
  kAnyActivation,  // LSTM, GRU reset_after, SimpleRNN: activations chosen at run time
  kResetBefore,    // GRU reset_after=False (any activation): two exchanges per step
};

// Shared-memory buffers of h: two (double-buffered h), and for GRU
// reset_after=False a third for r * h; then one mbarrier per buffer.
constexpr int HBuffers(RowGroupCode code) { return code == RowGroupCode::kResetBefore ? 3 : 2; }
size_t SharedBytes(int k_tiles, int row_tiles, RowGroupCode code) {
  return HBuffers(code) * (HBufferBytes(k_tiles, row_tiles) + sizeof(uint64_t));
}

template <typename T>
struct MmaRowGroupParams : RecurrenceIo<T> {
  int cluster_size;
  // How h goes to the peers: bulk copies from kMinBulkStores stores and
  // kMinBulkPackets packets per region, else st.async per packet (kAuto), or
  // always one of them (debug knobs, for A/B runs).
  enum class Copy { kAuto, kStAsync, kBulk } copy;
};
// The variants' parameters: the activations, known at run time.
template <typename T>
struct MmaRowGroupVariantParams : MmaRowGroupParams<T> {
  Activation activation;
  Activation recurrent_activation;
};

// An activation of the variant kernels, as two forms chosen once per kernel:
// tanh and sigmoid as a + b / (1 + 2^(c x)) (exactly FastTanh / FastSigmoid),
// the others as clamp(scale x + shift, lo, hi) (cell_math.h's Activate; hard
// sigmoid's / 6 as a product, within a few ulp; relu and the clamps pass NaN
// through). Activate itself (a switch, IEEE division, tanhf) compiled to jump
// tables and calls on the step's serial chain: 22 BRX and 20 CALL in the fp16
// 8-k-tile LSTM kernel, which ran relu/hard_sigmoid at 1.5-1.8x the default
// LSTM (H200, H = 128); an if-chain over the activations became jump tables too.
struct RowActivation {
  bool smooth;           // tanh, sigmoid
  float a, b, c;         // smooth: a + b / (1 + 2^(c x))
  float scale, shift, lo, hi;  // else: clamp(scale x + shift, lo, hi)
};
__device__ __forceinline__ RowActivation RowActivationOf(Activation activation) {
  RowActivation f{false, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, -INFINITY, INFINITY};
  switch (activation) {
    case Activation::kTanh:
      f.smooth = true, f.a = 1.0f, f.b = -2.0f, f.c = 2.0f * kLog2e;
      break;
    case Activation::kSigmoid:
      f.smooth = true, f.a = 0.0f, f.b = 1.0f, f.c = -kLog2e;
      break;
    case Activation::kRelu:
      f.lo = 0.0f;
      break;
    case Activation::kLinear:
      break;
    case Activation::kHardSigmoid:  // relu6(x + 3) / 6
      f.scale = 1.0f / 6.0f, f.shift = 0.5f, f.lo = 0.0f, f.hi = 1.0f;
      break;
    case Activation::kHardSigmoidKeras2:  // clip(0.2 x + 0.5, 0, 1)
      f.scale = 0.2f, f.shift = 0.5f, f.lo = 0.0f, f.hi = 1.0f;
      break;
  }
  return f;
}
__device__ __forceinline__ float RowActivate(const RowActivation& f, float x) {
  if (f.smooth) return fmaf(f.b, RcpApprox(1.0f + Exp2Approx(f.c * x)), f.a);
  return Clamp(fmaf(f.scale, x, f.shift), f.lo, f.hi);
}

// MmaOperand, RawBits, RoundBits: rnn_device.cuh.

// 16 bytes of this block's shared memory.
__device__ __forceinline__ uint4 LoadShared16(unsigned address) {
  uint4 r;
  asm volatile("ld.shared.v4.b32 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "r"(address)
               : "memory");
  return r;
}

// h travels as st.async stores that count their bytes on the receiving block's
// mbarrier of that buffer: a block waits only until its h has arrived (one
// DSMEM trip), not for every thread of the cluster (a barrier.cluster per step
// cost 0.5 of a 1.4 us step at H = 128, H100). Double buffering makes this safe: a block
// writes buffer (tau + 1) % 2 of its peers only after it has received every
// peer's h of step tau, which each peer sends after reading that buffer.
__device__ __forceinline__ void BarrierInit(unsigned bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
// The next phase of `bar` completes when `bytes` more have arrived.
__device__ __forceinline__ void BarrierExpectBytes(unsigned bar, unsigned bytes) {
  asm volatile(
      "{\n .reg .b64 state;\n mbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}\n" ::
          "r"(bar), "r"(bytes)
      : "memory");
}
__device__ __forceinline__ void BarrierWait(unsigned bar, unsigned parity) {
  unsigned done = 0;
  do {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        " selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}
// 16 bytes to a peer block's shared memory, counted on its mbarrier `remote_bar`.
__device__ __forceinline__ void StoreAsync(unsigned address, uint4 v, unsigned remote_bar) {
  asm volatile(
      "st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.b32 [%0], {%1, %2, %3, %4}, "
      "[%5];\n" ::"r"(address),
      "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w), "r"(remote_bar)
      : "memory");
}

// The low 16 bits of `v` to this block's shared memory.
__device__ __forceinline__ void StoreShared2(unsigned address, uint32_t v) {
  asm volatile("st.shared.b16 [%0], %1;\n" ::"r"(address), "h"(static_cast<unsigned short>(v))
               : "memory");
}
// `bytes` of this block's shared memory at `source` to a peer's at `address`
// (the copy engine), counted on the peer's mbarrier `remote_bar`. The stores
// that wrote `source` must be ordered before it with FenceProxyAsync.
__device__ __forceinline__ void CopyToPeer(unsigned address, unsigned source, unsigned bytes,
                                           unsigned remote_bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx::bytes [%0], [%1], %2, "
      "[%3];\n" ::"r"(address),
      "r"(source), "r"(bytes), "r"(remote_bar)
      : "memory");
}
__device__ __forceinline__ void FenceProxyAsync() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
// Four 8 x 8 b16 matrices; lanes 8 i..8 i + 7 give the row addresses of matrix i.
__device__ __forceinline__ uint4 LoadMatrices(unsigned address) {
  uint4 r;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "r"(address)
               : "memory");
  return r;
}

// Thread layout (lane = 4 * gid + tig, half = lane / 16):
// - MMA: a warp's tile rows m = 4 * gate + j are gate `gate` of unit u0 + j.
//   Accumulator d[e] holds row gid + 8 * (e / 2), batch row 2 * tig + e % 2.
// - Cell: after one exchange with lane ^ 16, a lane holds the four gates of
//   unit u0 + gid % 4 and batch row 2 * tig + half (per row tile).
// - k order: in k tile kt, the MMA's k positions 2 tig + 8 e + i (e, i = 0, 1)
//   are units 16 kt + 4 tig + 2 e + i, so a lane's B fragments of both parts
//   are the one packet of unit group 4 kt + tig.
// kBulk: h goes to the peers as bulk copies of core-matrix regions (else
// st.async packets); chosen per launch (UsesBulkCopies), a compile-time
// choice so that each kernel holds only its own product and exchange code
// (the packet kernel with the wgmma path beside it ran 2-5% slower, H100).
// kCode: the cell code (RowGroupCode); P: MmaRowGroupParams<T>, or
// MmaRowGroupVariantParams<T> for the variants.
template <typename T, int KT, int RT, int W, RnnCell kCell, bool kBulk, RowGroupCode kCode,
          typename P>
__device__ __forceinline__ void MmaRowGroupRnnSteps(const P p) {
  using M = typename MmaOperand<T>::type;
  constexpr bool kSplitWeights = !std::is_same<M, T>::value;  // fp32: W = W_hi + W_lo
  // fp32's third product (W_lo h_hi, N = 8 RT) costs a wgmma as long as the
  // N = 16 RT one: 3-11% slower than mma.sync at H = 128 (H100): fp16/bf16 only.
  constexpr bool kWgmmaProduct = kHasWgmma && !kSplitWeights;
  constexpr int G = kCell == RnnCell::kLstm ? 4 : (kCell == RnnCell::kGru ? 3 : 1);
  constexpr bool kResetBefore = kCode == RowGroupCode::kResetBefore;
  static_assert(kCode == RowGroupCode::kAnyActivation || kCell != RnnCell::kSimpleRnn, "cell");
  static_assert(!kResetBefore || (kCell == RnnCell::kGru && !kBulk), "st.async packets only");
  constexpr int R = kRowsPerTile * RT;
  static_assert(W == 4 || W == 8, "warps per block");
  // Independent accumulator chains per row tile: the k-loop is a chain of
  // dependent MMAs otherwise.
  constexpr int NC = RT == 1 ? 8 : (RT == 2 ? 4 : 2);
  constexpr int kAhead = RT == 1 ? 4 : 2;  // steps of xproj/mask loaded ahead
  static_assert(KT % NC == 0 && KT % 2 == 0, "k tiles");
  extern __shared__ float4 shared_raw[];
  // [2 buffers (GRU reset_after=False: 3)][region][R][W packets]
  M* const h_s = reinterpret_cast<M*>(shared_raw);

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int gid = lane >> 2, tig = lane & 3, half = lane >> 4;
  const unsigned rank = ClusterRank();
  const int units = p.units;
  const int n_cols = G * units;
  const int b0 = (blockIdx.x / p.cluster_size) * R;
  const int rows = min(R, p.batch - b0);
  const int u0 = (static_cast<int>(rank) * W + warp) * kUnitsPerWarp;

  constexpr bool bulk = kBulk;
  // The variants' activations (the default kernels' are inline).
  RowActivation activation{}, recurrent_activation{};
  if constexpr (kCode != RowGroupCode::kDefault) {
    activation = RowActivationOf(p.activation);
    recurrent_activation = RowActivationOf(p.recurrent_activation);
  }

  // The warp's 16 gate columns over all of K, as A fragments: a[kt][e] holds
  // rows gid + 8 * (e & 1) and units k, k + 1 with k = 16 kt + 2 tig + 8 (e >> 1)
  // (bulk: the core-matrix layout's order), else k = 16 kt + 4 tig + 2 (e >> 1)
  // (the packet layout's order, see the thread layout).
  auto weight = [&](int kt, int e, int i) {
    const int m = gid + 8 * (e & 1);
    const int gate = m >> 2, unit = u0 + (m & 3);
    const int k = 16 * kt + (bulk ? 2 * tig + 8 * (e >> 1) : 4 * tig + 2 * (e >> 1)) + i;
    return (gate < G && unit < units && k < units)
               ? p.recurrent_kernel[static_cast<int64_t>(k) * n_cols + gate * units + unit]
               : T(0.0f);
  };
  // fp32: the warp's weights are scaled by 2^scale_exp (max |w| in [2^14, 2^15))
  // before the split, so W_lo stays clear of fp16's subnormals; the products
  // are scaled back (exactly) after the k loop.
  int scale_exp = 0;
  if constexpr (kSplitWeights) {
    float largest = 0.0f;
#pragma unroll
    for (int kt = 0; kt < KT; ++kt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        largest = fmaxf(largest, fmaxf(fabsf(weight(kt, e, 0)), fabsf(weight(kt, e, 1))));
      }
    }
    scale_exp = WarpWeightScaleExponent(largest);
  }
  const float unscale = ldexpf(1.0f, -scale_exp);
  uint32_t a[KT][4], a_lo[kSplitWeights ? KT : 1][4];
#pragma unroll
  for (int kt = 0; kt < KT; ++kt) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if constexpr (kSplitWeights) {
        SplitScaledWeightPair(weight(kt, e, 0), weight(kt, e, 1), scale_exp, &a[kt][e],
                              &a_lo[kt][e]);
      } else {
        a[kt][e] = RawBits(weight(kt, e, 0)) | RawBits(weight(kt, e, 1)) << 16;
      }
    }
  }

  // This lane's cell: unit `unit`, batch row b0 + n[j] of row tile j.
  const int unit = u0 + (gid & 3);
  const bool active = unit < units;
  const int cu = active ? unit : 0;  // a valid column for inactive lanes
  int n[RT];
  bool valid[RT];
#pragma unroll
  for (int j = 0; j < RT; ++j) {
    n[j] = kRowsPerTile * j + 2 * tig + half;
    valid[j] = active && n[j] < rows;
  }
  float rec_bias[G];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    rec_bias[g] = (active && p.recurrent_bias) ? ToAcc<float>(p.recurrent_bias[g * units + cu])
                                               : 0.0f;
  }
  float h[RT], c[RT], y[RT];
#pragma unroll
  for (int j = 0; j < RT; ++j) {
    const int64_t at = static_cast<int64_t>(b0 + (valid[j] ? n[j] : 0)) * units + cu;
    h[j] = (valid[j] && p.initial_h) ? ToAcc<float>(p.initial_h[at]) : 0.0f;
    c[j] = (valid[j] && p.initial_c) ? ToAcc<float>(p.initial_c[at]) : 0.0f;
    y[j] = 0.0f;
  }

  // Every block holds all of h: zero the buffers (padding k, rows past the
  // batch and lo of the initial h stay 0), then the initial h of the group's rows.
  constexpr unsigned kRegionBytes = RegionBytes(RT, W);
  constexpr unsigned kBufferBytes = HBufferBytes(KT, RT);
  constexpr unsigned kBuffers = HBuffers(kCode);
  uint32_t* const h_words = reinterpret_cast<uint32_t*>(h_s);
  for (int i = threadIdx.x; i < kBuffers * kBufferBytes / 4; i += blockDim.x) h_words[i] = 0u;
  __syncthreads();
  if (p.initial_h) {
    for (int i = threadIdx.x; i < rows * units; i += blockDim.x) {
      const int u = i % units;  // hi of unit u: packet u / 4, slot u % 4
      const int packet = u / kUnitsPerWarp;
      const unsigned hi_at =
          bulk ? CoreOffset(u, i / units, RT)
               : (packet / W) * kRegionBytes + PacketOffset(i / units, packet % W, W) +
                     2 * (u % kUnitsPerWarp);
      const unsigned lo_at = hi_at + (bulk ? RT * kCoreNStride : 2 * kUnitsPerWarp);
      const float h0 = ToAcc<float>(p.initial_h[static_cast<int64_t>(b0) * units + i]);
      const M hi = FromAcc<M>(h0);
      h_s[hi_at / 2] = hi;
      h_s[lo_at / 2] = FromAcc<M>(h0 - ToAcc<float>(hi));
    }
  }

  // Inputs of step tau + kAhead are loaded into registers while step tau runs
  // (the loop is unrolled by kAhead so the register slots are static).
  const int64_t t_step = p.go_backwards ? -1 : 1;
  const int t_first = p.go_backwards ? p.time - 1 : 0;
  const float* x_src[RT];
  const uint8_t* mask_bytes[RT];
  const int32_t* mask_words[RT];
  T* out[RT];
  const bool has_mask = p.mask != nullptr;
  const bool int_mask = p.mask_is_int32;
#pragma unroll
  for (int j = 0; j < RT; ++j) {
    const int64_t row = b0 + (valid[j] ? n[j] : 0);
    x_src[j] = p.xproj + (row * p.time + t_first) * n_cols + cu;
    const int64_t first = row * p.time + t_first;
    mask_bytes[j] = static_cast<const uint8_t*>(p.mask) + (int_mask ? 0 : first);
    mask_words[j] = static_cast<const int32_t*>(p.mask) + (int_mask ? first : 0);
    out[j] = p.output + row * p.time * units + cu;
  }
  const int64_t x_advance = t_step * n_cols;
  float x_next[kAhead][RT][G];
  int mask_next[kAhead][RT];
  int loads_left = p.time;
  auto load_step = [&](int s) {  // s: register slot (compile-time after unrolling)
    const bool live = loads_left > 0;
#pragma unroll
    for (int j = 0; j < RT; ++j) {
#pragma unroll
      for (int g = 0; g < G; ++g) {
        // Plain loads: __ldg ones may be hoisted above WaitForPreviousGrid.
        x_next[s][j][g] = (live && valid[j]) ? x_src[j][g * units] : 0.0f;
      }
      mask_next[s][j] = 1;
      if (live && has_mask && valid[j]) {
        mask_next[s][j] = int_mask ? __ldg(mask_words[j]) : __ldg(mask_bytes[j]);
      }
      if (live) {
        x_src[j] += x_advance;
        mask_bytes[j] += t_step;
        mask_words[j] += t_step;
      }
    }
    --loads_left;
  };
  WaitForPreviousGrid();  // the input projection (xproj) is complete from here on
#pragma unroll
  for (int s = 0; s < kAhead; ++s) load_step(s);

  // This lane's packet: row pn of each row tile (lanes pn + 8 i hold it).
  const int pn = lane & 7;
  const int source_lane = (pn >> 1) + 16 * (pn & 1);  // the lane whose row is pn
  // Packs the 4 units of a row (lanes tig + 16 half + 4 q hold unit q, `both`
  // its hi | lo << 16): [hi0 hi1][hi2 hi3][lo0 lo1][lo2 lo3], packet pn to
  // every lane pn + 8 i.
  auto pack_row = [&](uint32_t both) {
    const uint32_t both1 = __shfl_down_sync(0xffffffffu, both, 4);
    const uint32_t both2 = __shfl_down_sync(0xffffffffu, both, 8);
    const uint32_t both3 = __shfl_down_sync(0xffffffffu, both, 12);
    const uint32_t hi01 = __shfl_sync(0xffffffffu, __byte_perm(both, both1, 0x5410), source_lane);
    const uint32_t hi23 = __shfl_sync(0xffffffffu, __byte_perm(both2, both3, 0x5410), source_lane);
    const uint32_t lo01 = __shfl_sync(0xffffffffu, __byte_perm(both, both1, 0x7632), source_lane);
    const uint32_t lo23 = __shfl_sync(0xffffffffu, __byte_perm(both2, both3, 0x7632), source_lane);
    return make_uint4(hi01, hi23, lo01, lo23);
  };
  const int first_rank = lane >> 3;
  constexpr unsigned kTileBytes = kRowsPerTile * W * 16;  // a row tile of a region
  const unsigned h_base = SharedAddress(h_s);
  const unsigned own_region = rank * kRegionBytes;
  constexpr unsigned kResetBuffer = 2 * kBufferBytes;  // r * h (GRU reset_after=False)
  const unsigned packet_at = own_region + PacketOffset(pn, warp, W);
  // mbarrier of buffer X at bars + 8 X (after the buffers).
  uint64_t* const bar_pointer =
      reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(h_s) + kBuffers * kBufferBytes);
  const unsigned bars = SharedAddress(bar_pointer);
  // st.async: lanes pn + 8 f store packet pn to blocks f + 4 i. Bulk copies:
  // with 4 warps, lane l < 4 of warp w copies the block's region to block
  // 4 w + l: issued from one warp, the 15 copies of a 16-block cluster took
  // ~250 cycles more per step and reached the last peers later (H100, H = 256
  // B = 8: 1903 -> 1679 cycles per step, bench/step_phases.py). With 8 warps
  // (1 KB regions), lane l of warp 0 copies to block l: 2 copies from each
  // warp ran 9-10% slower at H = 512 (the copies delay the warps' next step).
  constexpr int kCopiesPerWarp = W == 4 ? 4 : kMaxClusterSize;
  const int copy_peer = kCopiesPerWarp * warp + lane;
  const bool copier = bulk && lane < kCopiesPerWarp && copy_peer < p.cluster_size &&
                      copy_peer != static_cast<int>(rank);
  unsigned remote[kMaxClusterSize / 4], remote_bars[kMaxClusterSize / 4];
#pragma unroll
  for (int i = 0; i < kMaxClusterSize / 4; ++i) {
    const int dst = bulk ? (i == 0 && lane < kCopiesPerWarp ? copy_peer : kMaxClusterSize)
                         : first_rank + 4 * i;
    remote[i] = dst < p.cluster_size ? MapToRank(h_s, dst) : 0u;
    remote_bars[i] = dst < p.cluster_size ? MapToRank(bar_pointer, dst) : 0u;
  }
  // B fragments of k tile kt: row gid, packet 4 kt + tig = packet (4 kt) % W +
  // tig of region 4 kt / W; read_at[q] for (4 kt) % W = 4 q.
  const unsigned read_at[2] = {h_base + PacketOffset(gid, tig, W),
                               h_base + PacketOffset(gid, (4 + tig) % W, W)};
  const int matrix = lane >> 3;  // the core matrix whose row address this lane gives ldmatrix
  // h bytes a block receives per step: with st.async a packet per warp of the
  // cluster and row of the batch (rows past it are never sent: nobody reads
  // their results); with bulk copies every peer's whole region (its rows are
  // spread over its core matrices).
  const unsigned region_bytes = bulk ? kRegionBytes : rows * W * 16;
  const unsigned step_bytes = region_bytes * (p.cluster_size - (bulk ? 1 : 0));
  if (threadIdx.x == 0) {
    BarrierInit(bars, 1);
    BarrierInit(bars + 8, 1);
    if constexpr (kResetBefore) BarrierInit(bars + 16, 1);  // r * h (see the reset gate below)
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    if (p.time > 1) BarrierExpectBytes(bars + 8, step_bytes);  // step 1 reads buffer 1
    if (p.time > 2) BarrierExpectBytes(bars, step_bytes);      // step 2 reads buffer 0
    if constexpr (kResetBefore) BarrierExpectBytes(bars + 16, step_bytes);  // step 0's r * h
  }

  const bool store_output = p.return_sequences;
  const bool zero_masked = p.zero_output_for_mask;
  // Every block has started (DSMEM targets and mbarriers exist), h is initialised
  // (and visible to the wgmma, which reads through the async proxy).
  FenceProxyAsync();
  ClusterBarrier();
  for (int tau0 = 0; tau0 < p.time; tau0 += kAhead) {
#pragma unroll
    for (int s = 0; s < kAhead; ++s) {
      const int tau = tau0 + s;
      if (tau >= p.time) break;
      const unsigned cur = (s & 1) * kBufferBytes;  // kAhead is even: parity of tau
      const unsigned next = ((s + 1) & 1) * kBufferBytes;
      StepStamp(0, tau);
      if (tau > 0) {
        // Step tau's h is the ((tau - 1) / 2)-th use of buffer tau % 2's mbarrier.
        BarrierWait(bars + 8 * (s & 1), ((tau - 1) >> 1) & 1);
        if (threadIdx.x == 0 && tau + 2 < p.time) BarrierExpectBytes(bars + 8 * (s & 1), step_bytes);
      }
      StepStamp(1, tau);

      // Lanes < 16 hold gates 0 and 2, lanes >= 16 gates 1 and 3, both for
      // rows 2 tig and 2 tig + 1: swap so each lane has all gates of one row.
      auto gates_of_row = [&](const float* d, float (&rec)[4]) {
        const float got_a = __shfl_xor_sync(0xffffffffu, half ? d[0] : d[1], 16);
        const float got_b = __shfl_xor_sync(0xffffffffu, half ? d[2] : d[3], 16);
        rec[0] = half ? got_a : d[0];
        rec[1] = half ? d[1] : got_a;
        rec[2] = half ? got_b : d[2];
        rec[3] = half ? d[3] : got_b;
      };
      float update_gate[kResetBefore ? RT : 1];
      auto send_reset_h = [&](const float (&dot)[RT][4]) {
        // GRU reset_after=False: hh = act(x_h + (r * h) @ U_h) needs r * h of
        // every unit. Between the two phases of the product below, each lane
        // sends r * h of its (unit, row) like h (hi + lo packets, st.async
        // counted on the third mbarrier) to the third buffer of every block;
        // then the product runs again over it (its z and r columns unused, as
        // the h product's candidate columns: the simplest layout, twice the
        // MMAs). One r * h buffer suffices: a block writes a peer's r * h of
        // step tau + 1 only after it has all of h of tau + 1, which every warp
        // sends after its product over r * h of step tau.
#pragma unroll
        for (int j = 0; j < RT; ++j) {
          float rec[4];
          gates_of_row(dot[j], rec);
          const float* x = x_next[s][j];
          update_gate[j] = RowActivate(recurrent_activation, x[0] + rec[0]);
          const float reset = RowActivate(recurrent_activation, x[1] + rec[1]);
          const float rh = active ? reset * h[j] : 0.0f;
          const float rh_rest = rh - ToAcc<float>(FromAcc<M>(rh));
          const uint4 packet =
              pack_row(RoundBits<M>(rh) | (RoundBits<M>(rh_rest) << 16));
          if (kRowsPerTile * j + pn < rows) {
#pragma unroll
            for (int i = 0; i < kMaxClusterSize / 4; ++i) {
              if (first_rank + 4 * i < p.cluster_size) {
                StoreAsync(remote[i] + kResetBuffer + packet_at + j * kTileBytes, packet,
                           remote_bars[i] + 16);
              }
            }
          }
        }
        BarrierWait(bars + 16, tau & 1);
        if (threadIdx.x == 0 && tau + 1 < p.time) BarrierExpectBytes(bars + 16, step_bytes);
      };

      // h @ U for the warp's 16 gate columns and the group's rows: dot[j] holds
      // this lane's 4 accumulator elements of row tile j. GRU reset_after=False:
      // a second phase, (r * h) @ U from the r * h buffer. (The product as a
      // lambda changed the default kernels' register allocation.)
      float dot[RT][4];
#pragma unroll
      for (int phase = 0; phase < (kResetBefore ? 2 : 1); ++phase) {
        if constexpr (kResetBefore) {
          if (phase == 1) send_reset_h(dot);
        }
        const unsigned buffer = phase == 0 ? cur : kResetBuffer;
        if constexpr (kWgmmaProduct && bulk) {
#if TFTRT_MASKING_HAS_WGMMA
          // One wgmma per k tile for the warpgroup, hi and lo columns side by
          // side (N = 16 RT), into a few independent accumulators (4 ran 8%
          // faster than 1 at RT = 1, probe; 2 at 32 k tiles, where 4 spilled).
          constexpr int kChains = RT == 1 ? (KT <= 16 ? 4 : 2) : (RT == 2 ? 2 : 1);
          float hi_lo[kChains][8 * RT];
          WgmmaFence();
#pragma unroll
          for (int kt = 0; kt < KT; ++kt) {
            const uint64_t tile = MatrixDescriptor(h_base + buffer + kt * CoreTileBytes(RT),
                                                   kCoreKStride, kCoreNStride);
            Wgmma<M, 16 * RT>::Run(hi_lo[kt % kChains], a[kt], tile, kt >= kChains);
          }
          WgmmaCommitAndWait();
#pragma unroll
          for (int j = 0; j < RT; ++j) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              float sum = 0.0f;
#pragma unroll
              for (int q = 0; q < kChains; ++q) {
                sum += hi_lo[q][4 * j + e] + hi_lo[q][4 * (RT + j) + e];
              }
              dot[j][e] = sum;
            }
          }
#endif
        } else {
          // mma.sync per warp, B fragments {hi, hi, lo, lo} of k tile kt (h = hi + lo)
          // from load_b(kt, j); the two loads below get a loop each.
          auto product = [&](auto load_b) {
            float acc[RT][NC][4];
#pragma unroll
            for (int j = 0; j < RT; ++j) {
#pragma unroll
              for (int q = 0; q < NC; ++q) {
#pragma unroll
                for (int e = 0; e < 4; ++e) acc[j][q][e] = 0.0f;
              }
            }
#pragma unroll
            for (int kt = 0; kt < KT; ++kt) {
#pragma unroll
              for (int j = 0; j < RT; ++j) {
                const uint4 b = load_b(kt, j);
                constexpr int kMmas = kSplitWeights ? 3 : 2;
                Mma16816<M>(acc[j][(kMmas * kt) % NC], a[kt], b.x, b.y);
                Mma16816<M>(acc[j][(kMmas * kt + 1) % NC], a[kt], b.z, b.w);
                if constexpr (kSplitWeights) {
                  Mma16816<M>(acc[j][(kMmas * kt + 2) % NC], a_lo[kt], b.x, b.y);
                }
              }
            }
#pragma unroll
            for (int j = 0; j < RT; ++j) {
#pragma unroll
              for (int e = 0; e < 4; ++e) {
                float sum = acc[j][0][e];
#pragma unroll
                for (int q = 1; q < NC; ++q) sum += acc[j][q][e];
                dot[j][e] = kSplitWeights ? sum * unscale : sum;
              }
            }
          };
          if constexpr (!kWgmmaProduct && bulk) {
            // The core-matrix layout: lanes 8 i.. give ldmatrix the rows of hi
            // kc 0, hi kc 1, lo kc 0, lo kc 1.
            product([&](int kt, int j) {
              return LoadMatrices(h_base + buffer + kt * CoreTileBytes(RT) +
                                  (matrix < 2 ? j : RT + j) * kCoreNStride +
                                  (matrix & 1) * kCoreKStride + 16 * (lane & 7));
            });
          } else {
            // The packet layout: one 16-byte packet.
            product([&](int kt, int j) {
              return LoadShared16(read_at[(4 * kt) % W / 4] + buffer + (4 * kt / W) * kRegionBytes +
                                  j * kTileBytes);
            });
          }
        }
      }

#pragma unroll
      for (int j = 0; j < RT; ++j) {
        float rec[4];
        gates_of_row(dot[j], rec);
        if (j == 0) StepStamp(2, tau);
        const float* x = x_next[s][j];
        float h_new, c_new = c[j];
        if constexpr (kResetBefore) {
          const float z = update_gate[j];
          const float hh = RowActivate(activation, x[2] + rec[2]);
          h_new = z * h[j] + (1.0f - z) * hh;
        } else if constexpr (kCode == RowGroupCode::kAnyActivation) {
          if constexpr (kCell == RnnCell::kLstm) {
            const float i = RowActivate(recurrent_activation, x[0] + rec[0]);
            const float f = RowActivate(recurrent_activation, x[1] + rec[1]);
            const float cand = RowActivate(activation, x[2] + rec[2]);
            const float o = RowActivate(recurrent_activation, x[3] + rec[3]);
            c_new = fmaf(f, c[j], i * cand);
            h_new = o * RowActivate(activation, c_new);
          } else if constexpr (kCell == RnnCell::kGru) {
            const float z = RowActivate(recurrent_activation, x[0] + rec[0] + rec_bias[0]);
            const float r = RowActivate(recurrent_activation, x[1] + rec[1] + rec_bias[1]);
            const float hh = RowActivate(activation, fmaf(r, rec[2] + rec_bias[2], x[2]));
            h_new = z * h[j] + (1.0f - z) * hh;
          } else {
            h_new = RowActivate(activation, x[0] + rec[0]);
          }
        } else if constexpr (kCell == RnnCell::kLstm) {
          const float i = FastSigmoid(x[0] + rec[0]);
          const float f = FastSigmoid(x[1] + rec[1]);
          const float cand = FastTanh(x[2] + rec[2]);
          const float o = FastSigmoid(x[3] + rec[3]);
          c_new = fmaf(f, c[j], i * cand);
          h_new = o * FastTanh(c_new);
        } else {
          const float z = FastSigmoid(x[0] + rec[0] + rec_bias[0]);
          const float r = FastSigmoid(x[1] + rec[1] + rec_bias[1]);
          const float hh = FastTanh(fmaf(r, rec[2] + rec_bias[2], x[2]));
          h_new = z * h[j] + (1.0f - z) * hh;
        }
        const bool keep = mask_next[s][j] != 0;
        h[j] = keep ? h_new : h[j];
        c[j] = keep ? c_new : c[j];
        y[j] = keep ? RoundTo<T>(h_new) : (zero_masked ? 0.0f : y[j]);

        // h for the product as hi + lo, two 16-bit values: hi alone (what
        // cuDNN's fp16 recurrence uses) perturbs h by 2^-11 per step, which a
        // chaotic recurrence (large recurrent weights) grew to O(1) within
        // 25-50 steps; hi + lo keeps ~2^-22 (fp16) / 2^-16 (bf16).
        const float h_out = active ? h[j] : 0.0f;
        const float h_rest = h_out - ToAcc<float>(FromAcc<M>(h_out));
        const uint32_t both = RoundBits<M>(h_out) | (RoundBits<M>(h_rest) << 16);
        if constexpr (bulk) {
          // Each lane writes its unit's hi and lo into the block's region (core
          // matrices); the copies send the region. Two 2-byte stores instead of
          // the 7 shuffles that build packets.
          const int row = kRowsPerTile * j + 2 * tig + half;
          if (tau + 1 < p.time && row < rows) {
            const unsigned at = h_base + next + CoreOffset(unit, row, RT);
            StoreShared2(at, both);
            StoreShared2(at + RT * kCoreNStride, both >> 16);
          }
          if (j == RT - 1) StepStamp(3, tau);
          continue;
        }
        // Push packet pn (pack_row) to the cluster.
        const uint4 packet = pack_row(both);
        if (j == RT - 1) StepStamp(3, tau);
        if (tau + 1 < p.time && kRowsPerTile * j + pn < rows) {  // the last h is nobody's input
#pragma unroll
          for (int i = 0; i < kMaxClusterSize / 4; ++i) {
            if (first_rank + 4 * i < p.cluster_size) {
              StoreAsync(remote[i] + next + packet_at + j * kTileBytes, packet,
                         remote_bars[i] + 8 * ((s + 1) & 1));
            }
          }
        }
      }
      StepStamp(4, tau);
      if (bulk && tau + 1 < p.time) {
        // The block's h of step tau + 1 is in its region: copy it to every peer.
        FenceProxyAsync();
        __syncthreads();
        if (copier) {
          CopyToPeer(remote[0] + next + own_region, h_base + next + own_region, region_bytes,
                     remote_bars[0] + 8 * ((s + 1) & 1));
        }
      }
      StepStamp(5, tau);
      load_step(s);
#pragma unroll
      for (int j = 0; j < RT; ++j) {
        if (store_output && valid[j]) *out[j] = FromAcc<T>(y[j]);
        out[j] += units;
      }
      StepStamp(6, tau);
    }
  }

#pragma unroll
  for (int j = 0; j < RT; ++j) {
    if (!valid[j]) continue;
    const int64_t at = static_cast<int64_t>(b0 + n[j]) * units + unit;
    if (p.final_h) p.final_h[at] = FromAcc<T>(h[j]);
    if (p.final_c) p.final_c[at] = FromAcc<T>(c[j]);
    if (!p.return_sequences && p.output) p.output[at] = FromAcc<T>(y[j]);
  }
  ClusterBarrier();  // no block leaves while a peer's shared memory may still be written
}

// The kernels: the default cells (their code and names as before the variants
// existed), and the variants with their run-time activations.
template <typename T, int KT, int RT, int W, RnnCell kCell, bool kBulk>
__global__ void __launch_bounds__(32 * W, 1) MmaRowGroupRnnKernel(const MmaRowGroupParams<T> p) {
  MmaRowGroupRnnSteps<T, KT, RT, W, kCell, kBulk, RowGroupCode::kDefault>(p);
}
template <typename T, int KT, int RT, int W, RnnCell kCell, bool kBulk, RowGroupCode kCode>
__global__ void __launch_bounds__(32 * W, 1)
    MmaRowGroupRnnVariantKernel(const MmaRowGroupVariantParams<T> p) {
  MmaRowGroupRnnSteps<T, KT, RT, W, kCell, kBulk, kCode>(p);
}

// The kernel of a launch variant, and its parameters' type.
template <typename T, int KT, int RT, int W, RnnCell kCell, bool kBulk, RowGroupCode kCode>
auto RowGroupKernel() {
  if constexpr (kCode == RowGroupCode::kDefault) {
    return MmaRowGroupRnnKernel<T, KT, RT, W, kCell, kBulk>;
  } else {
    return MmaRowGroupRnnVariantKernel<T, KT, RT, W, kCell, kBulk, kCode>;
  }
}
template <typename T, RowGroupCode kCode>
using RowGroupParamsOf = typename std::conditional<kCode == RowGroupCode::kDefault,
                                                   MmaRowGroupParams<T>,
                                                   MmaRowGroupVariantParams<T>>::type;

// Clusters of p.cluster_size blocks the device holds at once for this kernel.
template <typename T, int KT, int RT, int W, RnnCell kCell, bool kBulk, RowGroupCode kCode>
cudaError_t ActiveClusters(const MmaRowGroupParams<T>& p, int* clusters) {
  // Also sets the kernel's shared-memory and cluster-size attributes.
  return MaxActiveClusters(RowGroupKernel<T, KT, RT, W, kCell, kBulk, kCode>(), 32 * W,
                           SharedBytes(KT, RT, kCode), p.cluster_size, clusters);
}

// Whether h goes as bulk copies (see kMinBulkStores), judged on the first
// cluster's rows (a partial last group copies whole regions as well). GRU
// reset_after=False sends h and r * h as st.async packets only (its second
// exchange on bulk copies: not built).
template <typename T>
bool UsesBulkCopies(const MmaRowGroupParams<T>& p, int rows_per_cluster, int warps,
                    RowGroupCode code) {
  using Copy = typename MmaRowGroupParams<T>::Copy;
  if (code == RowGroupCode::kResetBefore) return false;
  const int rows = std::min(rows_per_cluster, p.batch);
  return p.copy == Copy::kBulk ||
         (p.copy == Copy::kAuto && rows * warps * p.cluster_size >= kMinBulkStores &&
          rows * warps >= kMinBulkPackets);
}

// Launches when the batch's groups of 8 RT rows fit the device in `waves`
// waves of clusters of W-warp blocks (false past 16 blocks).
template <typename T, int KT, int RT, int W, RnnCell kCell, RowGroupCode kCode>
cudaError_t LaunchIfFits(RowGroupParamsOf<T, kCode> p, int unit_warps, int waves,
                         bool overlap_projection, cudaStream_t stream, bool* launched) {
  constexpr bool kPacketsOnly = kCode == RowGroupCode::kResetBefore;
  *launched = false;
  p.cluster_size = (unit_warps + W - 1) / W;
  if (p.cluster_size > kMaxClusterSize) return cudaSuccess;
  const int groups = (p.batch + kRowsPerTile * RT - 1) / (kRowsPerTile * RT);
  if (kPacketsOnly &&
      W * std::min(kRowsPerTile * RT, p.batch) * p.cluster_size > kMaxResetBeforeStores) {
    return cudaSuccess;
  }
  const bool bulk = UsesBulkCopies<T>(p, kRowsPerTile * RT, W, kCode);
  int clusters = 0;
  cudaError_t error = cudaSuccess;
  if constexpr (kPacketsOnly) {
    error = ActiveClusters<T, KT, RT, W, kCell, false, kCode>(p, &clusters);
  } else {
    error = bulk ? ActiveClusters<T, KT, RT, W, kCell, true, kCode>(p, &clusters)
                 : ActiveClusters<T, KT, RT, W, kCell, false, kCode>(p, &clusters);
  }
  if (error != cudaSuccess || clusters < 1 || groups > waves * clusters) return error;
  *launched = true;
  // Overlap with the input projection (programmatic dependent launch: weights
  // load while the projection ends) for one cluster only: B = 1 and 8 ran
  // 2-9% faster (H100, run 36), B = 32 H = 128 T = 512 (4 clusters) 8-13%
  // slower (run 22), like the warp-row blocks packed onto the SMs a projection
  // left free (bench/NOTES.md v30).
  const bool overlap = groups == 1 && overlap_projection;
  const KernelLaunch launch(groups * p.cluster_size, 32 * W, SharedBytes(KT, RT, kCode),
                            p.cluster_size, stream, overlap);
  if constexpr (!kPacketsOnly) {
    if (bulk) {
      return cudaLaunchKernelEx(&launch.config,
                                RowGroupKernel<T, KT, RT, W, kCell, true, kCode>(), p);
    }
  }
  return cudaLaunchKernelEx(&launch.config, RowGroupKernel<T, KT, RT, W, kCell, false, kCode>(),
                            p);
}

// Blocks of 4 warps (a bigger cluster: each SM holds half as many MMAs and
// cell updates per step) while all groups of 8 rows fit the device at once;
// else blocks of 8 warps with 8, 16, 24 or 32 rows per cluster, the fewest that
// fit in one wave (a wave more costs a whole recurrence; more rows per cluster
// only more MMAs per step); past that 32 rows in at most kMaxWaves waves.
// H100, fp16 H = 128: 4 warps 0.95 us/step at B = 8, 8 warps 1.2, 16 warps
// 1.6; at B = 128, where 4-warp clusters run in waves, 8 warps win.
// plan.four_warp_blocks = false (TFTRT_MASKING_RNN_ROWS_8_WARPS=1) skips the
// 4-warp blocks (A/B). The variants skip 24 rows per cluster (32 instead: a
// third fewer kernels to build).
template <typename T, int KT, RnnCell kCell, RowGroupCode kCode>
int LaunchForRows(const RowGroupParamsOf<T, kCode>& p, const MmaRowGroupPlan& plan,
                  cudaStream_t stream) {
  const int unit_warps = plan.unit_warps;
  const bool overlap = plan.overlap_projection;
  bool launched = false;
  cudaError_t error = cudaSuccess;
  if (plan.four_warp_blocks) {
    error = LaunchIfFits<T, KT, 1, 4, kCell, kCode>(p, unit_warps, 1, overlap, stream, &launched);
    if (launched || error != cudaSuccess) return error;
  }
  error = LaunchIfFits<T, KT, 1, 8, kCell, kCode>(p, unit_warps, 1, overlap, stream, &launched);
  if (launched || error != cudaSuccess) return error;
  error = LaunchIfFits<T, KT, 2, 8, kCell, kCode>(p, unit_warps, 1, overlap, stream, &launched);
  if (launched || error != cudaSuccess) return error;
  if constexpr (kCode == RowGroupCode::kDefault) {
    error = LaunchIfFits<T, KT, 3, 8, kCell, kCode>(p, unit_warps, 1, overlap, stream, &launched);
    if (launched || error != cudaSuccess) return error;
  }
  error = LaunchIfFits<T, KT, 4, 8, kCell, kCode>(p, unit_warps, kMaxWaves, overlap, stream,
                                                  &launched);
  if (launched || error != cudaSuccess) return error;
  return cudaErrorCooperativeLaunchTooLarge;
}

template <typename T, RnnCell kCell, RowGroupCode kCode>
int LaunchForTiles(const RowGroupParamsOf<T, kCode>& p, const MmaRowGroupPlan& plan,
                   cudaStream_t stream) {
  switch (plan.k_tiles) {
    case 8:
      return LaunchForRows<T, 8, kCell, kCode>(p, plan, stream);
    // fp32 holds two sets of A fragments: 16 k tiles of them spilled (300+
    // bytes per thread), so fp32 stops at 8.
    case 16:
      if constexpr (!std::is_same<T, float>::value) {
        return LaunchForRows<T, 16, kCell, kCode>(p, plan, stream);
      }
      break;
    case 32:
      if constexpr (!std::is_same<T, float>::value) {
        return LaunchForRows<T, 32, kCell, kCode>(p, plan, stream);
      }
      break;
  }
  return cudaErrorInvalidValue;
}

// The launch parameters of a call (the variants' activations: the caller's).
template <typename T, typename P>
void FillRowGroupParams(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                        const MmaRowGroupPlan& plan, const float* xproj, P* p) {
  FillRecurrenceIo(config, args, xproj, p);
  using Copy = typename MmaRowGroupParams<T>::Copy;
  p->copy = plan.copy == RowGroupCopy::kStAsync
                ? Copy::kStAsync
                : (plan.copy == RowGroupCopy::kBulk ? Copy::kBulk : Copy::kAuto);
}

// Launches on the plan's dtype: Launch<T>() of the caller.
template <typename Launch>
int LaunchForDType(DType dtype, const Launch& launch) {
  switch (dtype) {
    case DType::kFloat16:
      return launch(__half());
    case DType::kBFloat16:
      return launch(__nv_bfloat16());
    case DType::kFloat32:
      return launch(float());
    default:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace
}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_MMA_ROW_GROUP_KERNEL_CUH_
