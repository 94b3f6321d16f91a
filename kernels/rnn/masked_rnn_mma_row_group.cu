// Tensor-core row-group masked recurrence (LSTM, GRU reset_after) for float16
// and bfloat16 tensors, fp32 accumulation and fp32 state. See the header.
#include "kernels/rnn/masked_rnn_mma_row_group.cuh"

#include <algorithm>

#include "kernels/rnn/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

constexpr int kUnitsPerWarp = 4;  // 4 gates x 4 units = the 16 rows of an m16n8k16 tile
constexpr int kMaxClusterSize = 16;
constexpr int kRowsPerTile = 8;   // batch rows = the n8 of the tile
constexpr int kMaxWaves = 2;      // of 32-row clusters; more: the sliced persistent kernel

// Warps per block: 4 or 8. Register budget: a k tile of A costs 4 registers;
// 32 k tiles (128) leave room for the rest at 256 threads.
constexpr int kMaxWarps = 8;

// h in shared memory, per batch row: a 16-byte packet per group of 4 units,
// [hi u0..u3][lo u0..u3] (the 4 units a warp owns), so a warp pushes each row
// of its h as ONE 16-byte st.async per peer block (it was two of 8 bytes: at
// H = 512 the 2048 stores per SM per step set the step time), and a lane loads
// a k tile's B fragments of both parts with one 16-byte ld.shared. The row
// stride is padded to 64 mod 128 bytes so that the 8 lanes of a 16-byte
// access phase (rows gid, gid + 1) hit distinct banks.
constexpr int HRowStride(int k_tiles) { return 32 * k_tiles + 32; }  // 16-bit elements
// A buffer holds h of R rows.
size_t HBufferBytes(int k_tiles, int row_tiles) {
  return static_cast<size_t>(kRowsPerTile) * row_tiles * HRowStride(k_tiles) * 2;
}
// Two h buffers, then one mbarrier per buffer.
size_t SharedBytes(int k_tiles, int row_tiles) {
  return 2 * HBufferBytes(k_tiles, row_tiles) + 2 * sizeof(uint64_t);
}

template <typename T>
struct MmaRowGroupParams : RecurrenceIo<T> {
  int cluster_size;
  int warps;  // per block
};

// The 16 bits of a value, and of a float rounded to T.
__device__ __forceinline__ uint32_t RawBits(__half v) { return __half_as_ushort(v); }
__device__ __forceinline__ uint32_t RawBits(__nv_bfloat16 v) { return __bfloat16_as_ushort(v); }
template <typename T>
__device__ __forceinline__ uint32_t RoundBits(float v) {
  return RawBits(FromAcc<T>(v));
}

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

// Thread layout (lane = 4 * gid + tig, half = lane / 16):
// - MMA: a warp's tile rows m = 4 * gate + j are gate `gate` of unit u0 + j.
//   Accumulator d[e] holds row gid + 8 * (e / 2), batch row 2 * tig + e % 2.
// - Cell: after one exchange with lane ^ 16, a lane holds the four gates of
//   unit u0 + gid % 4 and batch row 2 * tig + half (per row tile).
// - k order: in k tile kt, the MMA's k positions 2 tig + 8 e + i (e, i = 0, 1)
//   are units 16 kt + 4 tig + 2 e + i, so a lane's B fragments of both parts
//   are the one packet of unit group 4 kt + tig.
template <typename T, int KT, int RT, RnnCell kCell>
__global__ void __launch_bounds__(32 * kMaxWarps, 1)
    MmaRowGroupRnnKernel(const MmaRowGroupParams<T> p) {
  constexpr int G = kCell == RnnCell::kLstm ? 4 : 3;
  constexpr int KP = HRowStride(KT);
  constexpr int R = kRowsPerTile * RT;
  // Independent accumulator chains per row tile: the k-loop is a chain of
  // dependent MMAs otherwise.
  constexpr int NC = RT == 1 ? 8 : (RT == 2 ? 4 : 2);
  constexpr int kAhead = RT == 1 ? 4 : 2;  // steps of xproj/mask loaded ahead
  static_assert(KT % NC == 0 && KT % 2 == 0, "k tiles");
  extern __shared__ float4 shared_raw[];
  T* const h_s = reinterpret_cast<T*>(shared_raw);  // [2 buffers][R][KP], packets

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int gid = lane >> 2, tig = lane & 3, half = lane >> 4;
  const unsigned rank = ClusterRank();
  const int units = p.units;
  const int n_cols = G * units;
  const int b0 = (blockIdx.x / p.cluster_size) * R;
  const int rows = min(R, p.batch - b0);
  const int u0 = (static_cast<int>(rank) * p.warps + warp) * kUnitsPerWarp;

  // The warp's 16 gate columns over all of K, as A fragments:
  // a[kt][e] holds rows gid + 8 * (e & 1), units k = 16 kt + 4 tig + 2 * (e >> 1), +1.
  uint32_t a[KT][4];
#pragma unroll
  for (int kt = 0; kt < KT; ++kt) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int m = gid + 8 * (e & 1);
      const int gate = m >> 2, unit = u0 + (m & 3);
      const int k = 16 * kt + 4 * tig + 2 * (e >> 1);
      uint32_t pair = 0;
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        if (gate < G && unit < units && k + i < units) {
          pair |= RawBits(p.recurrent_kernel[static_cast<int64_t>(k + i) * n_cols +
                                             gate * units + unit])
                  << (16 * i);
        }
      }
      a[kt][e] = pair;
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

  // Every block holds all of h: zero both buffers (padding k, rows past the
  // batch and lo of the initial h stay 0), then the initial h of the group's rows.
  uint32_t* const h_words = reinterpret_cast<uint32_t*>(h_s);
  for (int i = threadIdx.x; i < R * KP; i += blockDim.x) h_words[i] = 0u;  // 2 buffers
  __syncthreads();
  if (p.initial_h) {
    for (int i = threadIdx.x; i < rows * units; i += blockDim.x) {
      const int u = i % units;  // hi of unit u: packet u / 4, slot u % 4
      h_s[(i / units) * KP + 2 * u - (u & 3)] = p.initial_h[static_cast<int64_t>(b0) * units + i];
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
        x_next[s][j][g] = (live && valid[j]) ? __ldg(x_src[j] + g * units) : 0.0f;
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
#pragma unroll
  for (int s = 0; s < kAhead; ++s) load_step(s);

  // Where this lane pushes h: the packet of row pn of each row tile to blocks
  // first_rank + 4 i of the cluster.
  const int pn = lane & 7;
  const int source_lane = (pn >> 1) + 16 * (pn & 1);  // the lane whose row is pn
  const int first_rank = lane >> 3;
  constexpr unsigned kBufferBytes = R * KP * sizeof(T);
  constexpr unsigned kTileBytes = kRowsPerTile * KP * sizeof(T);
  // mbarrier of buffer X at bars + 8 X (after the two h buffers).
  uint64_t* const bar_pointer =
      reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(h_s) + 2 * kBufferBytes);
  const unsigned bars = SharedAddress(bar_pointer);
  unsigned remote[kMaxClusterSize / 4], remote_bars[kMaxClusterSize / 4];
#pragma unroll
  for (int i = 0; i < kMaxClusterSize / 4; ++i) {
    const int dst = first_rank + 4 * i;
    remote[i] = dst < p.cluster_size ? MapToRank(h_s + pn * KP + 2 * u0, dst) : 0u;
    remote_bars[i] = dst < p.cluster_size ? MapToRank(bar_pointer, dst) : 0u;
  }
  // B fragments: row gid, unit group tig of each k tile.
  const unsigned h_read = SharedAddress(h_s + gid * KP + 8 * tig);
  // h bytes a block receives per step: a packet per warp of the cluster and
  // row of the batch (rows past it are never sent: nobody reads their results).
  const unsigned step_bytes = rows * p.warps * p.cluster_size * 16;
  if (threadIdx.x == 0) {
    BarrierInit(bars, 1);
    BarrierInit(bars + 8, 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    if (p.time > 1) BarrierExpectBytes(bars + 8, step_bytes);  // step 1 reads buffer 1
    if (p.time > 2) BarrierExpectBytes(bars, step_bytes);      // step 2 reads buffer 0
  }

  const bool store_output = p.return_sequences;
  const bool zero_masked = p.zero_output_for_mask;
  // Every block has started (DSMEM targets and mbarriers exist), h is initialised.
  ClusterBarrier();
  for (int tau0 = 0; tau0 < p.time; tau0 += kAhead) {
#pragma unroll
    for (int s = 0; s < kAhead; ++s) {
      const int tau = tau0 + s;
      if (tau >= p.time) break;
      const unsigned cur = (s & 1) * kBufferBytes;  // kAhead is even: parity of tau
      const unsigned next = ((s + 1) & 1) * kBufferBytes;
      if (tau > 0) {
        // Step tau's h is the ((tau - 1) / 2)-th use of buffer tau % 2's mbarrier.
        BarrierWait(bars + 8 * (s & 1), ((tau - 1) >> 1) & 1);
        if (threadIdx.x == 0 && tau + 2 < p.time) BarrierExpectBytes(bars + 8 * (s & 1), step_bytes);
      }

      // h @ U for the warp's 16 gate columns and the group's rows.
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
          // {hi, hi, lo, lo} B fragments of k tile kt: h = hi + lo.
          const uint4 b = LoadShared16(h_read + cur + j * kTileBytes + kt * 64);
          Mma16816<T>(acc[j][(2 * kt) % NC], a[kt], b.x, b.y);
          Mma16816<T>(acc[j][(2 * kt + 1) % NC], a[kt], b.z, b.w);
        }
      }

#pragma unroll
      for (int j = 0; j < RT; ++j) {
        float d[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          d[e] = acc[j][0][e];
#pragma unroll
          for (int q = 1; q < NC; ++q) d[e] += acc[j][q][e];
        }
        // Lanes < 16 hold gates 0 and 2, lanes >= 16 gates 1 and 3, both for
        // rows 2 tig and 2 tig + 1: swap so each lane has all gates of one row.
        const float got_a = __shfl_xor_sync(0xffffffffu, half ? d[0] : d[1], 16);
        const float got_b = __shfl_xor_sync(0xffffffffu, half ? d[2] : d[3], 16);
        float rec[4];
        rec[0] = half ? got_a : d[0];
        rec[1] = half ? d[1] : got_a;
        rec[2] = half ? got_b : d[2];
        rec[3] = half ? d[3] : got_b;
        const float* x = x_next[s][j];
        float h_new, c_new = c[j];
        if constexpr (kCell == RnnCell::kLstm) {
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
        const float h_rest = h_out - ToAcc<float>(FromAcc<T>(h_out));
        const uint32_t both = RoundBits<T>(h_out) | (RoundBits<T>(h_rest) << 16);
        // Pack the 4 units of a row (lanes tig + 16 half + 4 q hold unit q):
        // [hi0 hi1][hi2 hi3][lo0 lo1][lo2 lo3], hand packet pn to every lane
        // pn + 8 i, push to the cluster.
        const uint32_t both1 = __shfl_down_sync(0xffffffffu, both, 4);
        const uint32_t both2 = __shfl_down_sync(0xffffffffu, both, 8);
        const uint32_t both3 = __shfl_down_sync(0xffffffffu, both, 12);
        const uint32_t hi01 = __shfl_sync(0xffffffffu, __byte_perm(both, both1, 0x5410), source_lane);
        const uint32_t hi23 =
            __shfl_sync(0xffffffffu, __byte_perm(both2, both3, 0x5410), source_lane);
        const uint32_t lo01 = __shfl_sync(0xffffffffu, __byte_perm(both, both1, 0x7632), source_lane);
        const uint32_t lo23 =
            __shfl_sync(0xffffffffu, __byte_perm(both2, both3, 0x7632), source_lane);
        const uint4 packet = make_uint4(hi01, hi23, lo01, lo23);
        if (tau + 1 < p.time && kRowsPerTile * j + pn < rows) {  // the last h is nobody's input
#pragma unroll
          for (int i = 0; i < kMaxClusterSize / 4; ++i) {
            if (first_rank + 4 * i < p.cluster_size) {
              StoreAsync(remote[i] + next + j * kTileBytes, packet,
                         remote_bars[i] + 8 * ((s + 1) & 1));
            }
          }
        }
      }
      load_step(s);
#pragma unroll
      for (int j = 0; j < RT; ++j) {
        if (store_output && valid[j]) *out[j] = FromAcc<T>(y[j]);
        out[j] += units;
      }
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

// Clusters of p.cluster_size blocks the device holds at once for this kernel.
template <typename T, int KT, int RT, RnnCell kCell>
cudaError_t ActiveClusters(const MmaRowGroupParams<T>& p, int* clusters) {
  // Also sets the kernel's shared-memory and cluster-size attributes.
  return MaxActiveClusters(MmaRowGroupRnnKernel<T, KT, RT, kCell>, 32 * p.warps,
                           SharedBytes(KT, RT), p.cluster_size, clusters);
}

template <typename T, int KT, int RT, RnnCell kCell>
int LaunchTyped(const MmaRowGroupParams<T>& p, int groups, cudaStream_t stream) {
  const ClusterLaunch launch(groups * p.cluster_size, 32 * p.warps, SharedBytes(KT, RT),
                             p.cluster_size, stream);
  return cudaLaunchKernelEx(&launch.config, MmaRowGroupRnnKernel<T, KT, RT, kCell>, p);
}

// Splits the unit warps over blocks of `warps` warps; false past 16 blocks.
template <typename T>
bool SetBlocks(int unit_warps, int warps, MmaRowGroupParams<T>* p) {
  p->cluster_size = (unit_warps + warps - 1) / warps;
  p->warps = (unit_warps + p->cluster_size - 1) / p->cluster_size;
  return p->cluster_size <= kMaxClusterSize;
}

// Blocks of 4 warps (a bigger cluster: each SM holds half as many MMAs and
// cell updates per step) while all groups of 8 rows fit the device at once;
// else blocks of 8 warps with 8, 16 or 32 rows per cluster, the fewest that
// fit in one wave (a wave more costs a whole recurrence; more rows per cluster
// only more MMAs per step); past that 32 rows in at most kMaxWaves waves.
// H100, fp16 H = 128: 4 warps 0.95 us/step at B = 8, 8 warps 1.2, 16 warps
// 1.6; at B = 128, where 4-warp clusters run in waves, 8 warps win.
template <typename T, int KT, int RT, RnnCell kCell>
cudaError_t LaunchIfFits(const MmaRowGroupParams<T>& p, int waves, cudaStream_t stream,
                       bool* launched) {
  const int groups = (p.batch + kRowsPerTile * RT - 1) / (kRowsPerTile * RT);
  int clusters = 0;
  const cudaError_t error = ActiveClusters<T, KT, RT, kCell>(p, &clusters);
  *launched = error == cudaSuccess && clusters >= 1 && groups <= waves * clusters;
  if (!*launched) return error;
  return static_cast<cudaError_t>(LaunchTyped<T, KT, RT, kCell>(p, groups, stream));
}

template <typename T, int KT, RnnCell kCell>
int LaunchForRows(MmaRowGroupParams<T> p, int unit_warps, cudaStream_t stream) {
  bool launched = false;
  cudaError_t error = cudaSuccess;
  if (SetBlocks(unit_warps, 4, &p)) {
    error = LaunchIfFits<T, KT, 1, kCell>(p, 1, stream, &launched);
    if (launched || error != cudaSuccess) return error;
  }
  if (!SetBlocks(unit_warps, kMaxWarps, &p)) return cudaErrorCooperativeLaunchTooLarge;
  error = LaunchIfFits<T, KT, 1, kCell>(p, 1, stream, &launched);
  if (launched || error != cudaSuccess) return error;
  error = LaunchIfFits<T, KT, 2, kCell>(p, 1, stream, &launched);
  if (launched || error != cudaSuccess) return error;
  error = LaunchIfFits<T, KT, 4, kCell>(p, kMaxWaves, stream, &launched);
  if (launched || error != cudaSuccess) return error;
  return cudaErrorCooperativeLaunchTooLarge;
}

template <typename T, RnnCell kCell>
int LaunchForTiles(const MmaRowGroupParams<T>& p, const MmaRowGroupPlan& plan,
                   cudaStream_t stream) {
  switch (plan.k_tiles) {
    case 8:
      return LaunchForRows<T, 8, kCell>(p, plan.unit_warps, stream);
    case 16:
      return LaunchForRows<T, 16, kCell>(p, plan.unit_warps, stream);
    case 32:
      return LaunchForRows<T, 32, kCell>(p, plan.unit_warps, stream);
  }
  return cudaErrorInvalidValue;
}

template <typename T>
int LaunchForType(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const MmaRowGroupPlan& plan, const float* xproj, cudaStream_t stream) {
  MmaRowGroupParams<T> p;
  FillRecurrenceIo(config, args, xproj, &p);
  switch (config.cell) {
    case RnnCell::kLstm:
      return LaunchForTiles<T, RnnCell::kLstm>(p, plan, stream);
    case RnnCell::kGru:
      return LaunchForTiles<T, RnnCell::kGru>(p, plan, stream);
    case RnnCell::kSimpleRnn:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace

bool PlanMmaRowGroupRnn(const MaskedRnnConfig& config, DType dtype, int cc_major,
                        MmaRowGroupPlan* plan) {
  if (EnvFlag("TFTRT_MASKING_RNN_NO_ROW_BLOCK") || EnvFlag("TFTRT_MASKING_RNN_NO_MMA_ROWS")) {
    return false;
  }
  if (cc_major < 9) return false;
  if (dtype != DType::kFloat16 && dtype != DType::kBFloat16) return false;
  if (config.cell == RnnCell::kSimpleRnn) return false;
  if (config.cell == RnnCell::kGru && !config.reset_after) return false;
  if (config.activation != Activation::kTanh ||
      config.recurrent_activation != Activation::kSigmoid) {
    return false;
  }
  if (config.batch < 1 || config.batch > (int64_t{1} << 24)) return false;
  if (config.time < 1 || config.time > (int64_t{1} << 30)) return false;
  if (config.units <= 64 || config.units > 512) return false;
  const int units = static_cast<int>(config.units);
  const int k_tiles = units <= 128 ? 8 : (units <= 256 ? 16 : 32);
  plan->k_tiles = k_tiles;
  plan->unit_warps = (units + kUnitsPerWarp - 1) / kUnitsPerWarp;  // <= 128 = 16 x kMaxWarps
  return true;
}

int LaunchMmaRowGroupRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                         const MmaRowGroupPlan& plan, const float* xproj, cudaStream_t stream) {
  switch (args.dtype) {
    case DType::kFloat16:
      return LaunchForType<__half>(config, args, plan, xproj, stream);
    case DType::kBFloat16:
      return LaunchForType<__nv_bfloat16>(config, args, plan, xproj, stream);
    default:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
