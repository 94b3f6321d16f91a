// Row-block masked recurrence (LSTM, GRU reset_after, SimpleRNN) in fp32
// arithmetic for float32 / float16 / bfloat16 tensors. See the header.
#include "kernels/rnn/masked_rnn_row_block.cuh"

#include <algorithm>

#include "kernels/common/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

constexpr int kMaxThreads = kRowBlockMaxThreads;
constexpr int kStages = kRowBlockStages;

template <typename T>
struct RowBlockParams : RecurrenceIo<T> {
  int units_per_block;  // units / cluster size (rounded up)
  int cluster_size;     // 1 or 2
};

// Thread layout: P consecutive lanes own the gate columns of one unit (P = 4:
// LSTM i, f, c, o or GRU z, r, h and an idle lane; P = 1: SimpleRNN), so the
// cell update gathers its gates with warp shuffles and a step needs a single
// barrier (after the new h is written). Block q of a cluster owns units
// [q * units_per_block, (q + 1) * units_per_block). Shared memory:
// RowBlockSharedFloats (rnn_kernel_plans.h).

constexpr int LanesPerUnit(RnnCell cell) { return cell == RnnCell::kSimpleRnn ? 1 : 4; }

template <typename T, int KR, int R, RnnCell kCell>
__global__ void __launch_bounds__(kMaxThreads, 1) RowBlockRnnKernel(const RowBlockParams<T> p) {
  constexpr int P = LanesPerUnit(kCell);
  constexpr int kGates = kCell == RnnCell::kLstm ? 4 : (kCell == RnnCell::kGru ? 3 : 1);
  extern __shared__ float4 shared_raw[];
  float* const h_s = reinterpret_cast<float*>(shared_raw);  // [2][R][KR]
  const int tid = threadIdx.x;
  const int threads = blockDim.x;
  const int units = p.units;
  const int n = kGates * units;
  float* const x_ring = h_s + 2 * R * KR;  // [kStages][R][threads]
  uint32_t* const mask_ring = reinterpret_cast<uint32_t*>(x_ring + kStages * R * threads);

  const bool clustered = p.cluster_size > 1;
  const unsigned rank = clustered ? ClusterRank() : 0;
  const int b0 = (blockIdx.x / p.cluster_size) * R;
  const int rows = min(R, p.batch - b0);
  const int unit = rank * p.units_per_block + tid / P, gate = tid % P;
  const bool column = tid / P < p.units_per_block && unit < units && gate < kGates;
  const int col = column ? gate * units + unit : 0;  // Keras column; idle lanes shadow 0
  const bool owner = column && gate == 0;           // holds the unit's c, h, output

  // This thread's whole column of the recurrent kernel, in registers.
  float w[KR];
#pragma unroll
  for (int k = 0; k < KR; ++k) {
    w[k] = (column && k < units)
               ? ToAcc<float>(p.recurrent_kernel[static_cast<int64_t>(k) * n + col])
               : 0.0f;
  }
  const float rec_bias =
      (column && p.recurrent_bias) ? ToAcc<float>(p.recurrent_bias[col]) : 0.0f;

  // State of (row r, this unit): h, c, the previous output (used by owners).
  float h[R], c[R], y[R];
  for (int i = tid; i < 2 * R * KR; i += threads) h_s[i] = 0.0f;  // padding k stays 0
  __syncthreads();
#pragma unroll
  for (int r = 0; r < R; ++r) {
    h[r] = c[r] = y[r] = 0.0f;
    if (r < rows) {
      // Every block needs all of h: each thread writes the initial h of the
      // units it would own in every block of the cluster.
      for (int u = tid; u < units; u += threads) {
        const int64_t at = static_cast<int64_t>(b0 + r) * units + u;
        h_s[r * KR + u] = p.initial_h ? ToAcc<float>(p.initial_h[at]) : 0.0f;
      }
      if (owner) {
        const int64_t at = static_cast<int64_t>(b0 + r) * units + unit;
        if (p.initial_h) h[r] = ToAcc<float>(p.initial_h[at]);
        if (p.initial_c) c[r] = ToAcc<float>(p.initial_c[at]);
      }
    }
  }

  WaitForPreviousGrid();  // the input projection (xproj) is complete from here on

  // xproj and mask of step tau + kStages - 1 are copied while step tau runs.
  // Each column thread copies (and later reads) its own column; thread r < rows
  // copies row r's mask word, which the owners read after a barrier. Sources
  // are walked with pointers and the copies are predicated by their size (0 =
  // zero-fill, nothing read), so a step's copy has no branches.
  const int64_t t_step = p.go_backwards ? -1 : 1;  // source steps per processing step
  const int t_first = p.go_backwards ? p.time - 1 : 0;
  const float* x_src[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    x_src[r] = p.xproj + (static_cast<int64_t>(b0 + min(r, rows - 1)) * p.time + t_first) * n + col;
  }
  const int mask_element = p.mask_is_int32 ? 4 : 1;
  const uint8_t* const mask_base = static_cast<const uint8_t*>(p.mask);
  const bool copies_mask = mask_base != nullptr && tid < rows;
  // Row tid's element; the copy takes the aligned word holding it. Without a
  // mask it points at xproj (a valid address, 0 bytes read).
  const uint8_t* mask_src =
      copies_mask ? mask_base + (static_cast<int64_t>(b0 + tid) * p.time + t_first) * mask_element
                  : reinterpret_cast<const uint8_t*>(p.xproj);
  const uint8_t* const mask_end =
      copies_mask ? mask_base + static_cast<int64_t>(p.batch) * p.time * mask_element : mask_src;
  const int64_t x_advance = t_step * n;
  const int64_t mask_advance = copies_mask ? t_step * mask_element : 0;
  int copies_left = p.time;
  auto copy_step = [&](int step) {
    const int slot = step & (kStages - 1);
    const bool live = copies_left > 0;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      CopyAsync4(x_ring + (slot * R + r) * threads + tid, x_src[r],  // own slot
                 (live && column && r < rows) ? 4 : 0);
      x_src[r] += live ? x_advance : 0;
    }
    if (tid < R) {  // a 0-byte copy still zero-fills its destination: only row owners copy
      // Only bytes inside the mask are read (a last partial word is zero-filled).
      const uint8_t* word = reinterpret_cast<const uint8_t*>(
          reinterpret_cast<uintptr_t>(mask_src) & ~uintptr_t{3});
      const int64_t left = mask_end - word;
      if (live && copies_mask && left < 4) {
        // The mask's last, partial word: read byte by byte (a shorter
        // cp.async still counts as a 4-byte read for memcheck).
        uint32_t value = 0;
        for (int i = 0; i < left; ++i) value |= static_cast<uint32_t>(word[i]) << (8 * i);
        mask_ring[slot * R + tid] = value;
      } else {
        CopyAsync4(mask_ring + slot * R + tid, word, (live && copies_mask) ? 4 : 0);
      }
      mask_src += live ? mask_advance : 0;
    }
    --copies_left;
    CopyAsyncCommit();  // one group per step, empty past the end, so waits count steps
  };
  static_assert((kStages & (kStages - 1)) == 0, "slot = step & (kStages - 1)");
  // Invariant: before the barrier that opens step tau, every thread's copies of
  // step tau have landed (wait for all but the newest kStages - 2 groups).
  for (int step = 0; step < kStages - 1; ++step) copy_step(step);
  CopyAsyncWait<kStages - 2>();
  if (clustered) {
    ClusterBarrier();  // also: every block of the cluster runs before DSMEM writes
  } else {
    __syncthreads();
  }

  // Owners: byte position of row r's mask element in its word (bool masks),
  // advanced with t; output pointers advance one step of units per step.
  int mask_shift[R];
  T* out[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t first = static_cast<int64_t>(b0 + min(r, rows - 1)) * p.time + t_first;
    mask_shift[r] = static_cast<int>(first & 3);  // the base is 4-byte aligned
    out[r] = p.output + static_cast<int64_t>(b0 + min(r, rows - 1)) * p.time * units + unit;
  }
  const bool has_mask = mask_base != nullptr;
  const bool bool_mask = !p.mask_is_int32;
  const bool store_output = owner && p.return_sequences;
  const bool zero_masked = p.zero_output_for_mask;
  const int shift_step = static_cast<int>(t_step);
  float* h_cur = h_s;
  float* h_next = h_s + R * KR;
  const unsigned peer = rank ^ 1u;  // the other block of a 2-block cluster
  for (int tau = 0; tau < p.time; ++tau) {
    const int slot = tau & (kStages - 1);
    copy_step(tau + kStages - 1);
    float x[R];
#pragma unroll
    for (int r = 0; r < R; ++r) x[r] = x_ring[(slot * R + r) * threads + tid];

    // h @ U for this column; four partial sums keep the FMA chains short.
    float acc[R][4];
#pragma unroll
    for (int r = 0; r < R; ++r) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[r][q] = 0.0f;
    }
    const float4* const h4 = reinterpret_cast<const float4*>(h_cur);
#pragma unroll
    for (int k4 = 0; k4 < KR / 4; ++k4) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float4 hv = h4[r * (KR / 4) + k4];  // broadcast
        acc[r][0] = fmaf(hv.x, w[4 * k4], acc[r][0]);
        acc[r][1] = fmaf(hv.y, w[4 * k4 + 1], acc[r][1]);
        acc[r][2] = fmaf(hv.z, w[4 * k4 + 2], acc[r][2]);
        acc[r][3] = fmaf(hv.w, w[4 * k4 + 3], acc[r][3]);
      }
    }

#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (r >= rows) break;
      const float rec = ((acc[r][0] + acc[r][1]) + (acc[r][2] + acc[r][3])) + rec_bias;
      // Column activation without divergence: LSTM's cell candidate is
      // tanh(a) = 2 sigmoid(2a) - 1; GRU's candidate column stays raw (it
      // needs r first: hh = tanh(x_h + r * (h @ U_h + b_h))).
      float v;
      if constexpr (kCell == RnnCell::kLstm) {
        const bool cand = gate == 2;
        const float s = FastSigmoid(cand ? 2.0f * (x[r] + rec) : x[r] + rec);
        v = cand ? fmaf(2.0f, s, -1.0f) : s;
      } else if constexpr (kCell == RnnCell::kGru) {
        v = gate == 2 ? rec : FastSigmoid(x[r] + rec);
      } else {
        v = FastTanh(x[r] + rec);
      }
      // Every lane runs the cell update (no divergence); only owners' results
      // are stored.
      float h_new, c_new = c[r];
      if constexpr (kCell == RnnCell::kLstm) {  // v = i, f, c~, o on lanes 0-3
        const float f = __shfl_down_sync(0xffffffffu, v, 1);
        const float cand = __shfl_down_sync(0xffffffffu, v, 2);
        const float o = __shfl_down_sync(0xffffffffu, v, 3);
        c_new = fmaf(f, c[r], v * cand);
        h_new = o * FastTanh(c_new);
      } else if constexpr (kCell == RnnCell::kGru) {  // v = z, r, h@U_h + b_h on lanes 0-2
        const float reset = __shfl_down_sync(0xffffffffu, v, 1);
        const float rec_h = __shfl_down_sync(0xffffffffu, v, 2);
        const float x_h = __shfl_down_sync(0xffffffffu, x[r], 2);
        const float hh = FastTanh(fmaf(reset, rec_h, x_h));
        h_new = v * h[r] + (1.0f - v) * hh;
      } else {
        h_new = v;
      }
      bool keep = true;
      if (has_mask) {
        const uint32_t word = mask_ring[slot * R + r];
        keep = bool_mask ? ((word >> (8 * mask_shift[r])) & 0xffu) != 0 : word != 0;
        mask_shift[r] = (mask_shift[r] + shift_step) & 3;
      }
      h[r] = keep ? h_new : h[r];
      c[r] = keep ? c_new : c[r];
      y[r] = keep ? RoundTo<T>(h_new) : (zero_masked ? 0.0f : y[r]);
      if (owner) {
        h_next[r * KR + unit] = h[r];
        if (clustered) StoreToCluster(MapToRank(h_next + r * KR + unit, peer), h[r]);
      }
      if (store_output) {
        *out[r] = FromAcc<T>(y[r]);
        out[r] += units;
      }
    }
    CopyAsyncWait<kStages - 2>();  // step tau + 1's copies, before the barrier
    if (clustered) {
      ClusterBarrier();
    } else {
      __syncthreads();
    }
    float* const swap = h_cur;
    h_cur = h_next;
    h_next = swap;
  }

#pragma unroll
  for (int r = 0; r < R; ++r) {
    if (!owner || r >= rows) continue;
    const int64_t at = static_cast<int64_t>(b0 + r) * units + unit;
    if (p.final_h) p.final_h[at] = FromAcc<T>(h[r]);
    if (p.final_c) p.final_c[at] = FromAcc<T>(c[r]);
    if (!p.return_sequences && p.output) p.output[at] = FromAcc<T>(y[r]);
  }
}

// ---------------------------------------------------------------------------
// Warp-row mode (units <= 32): one warp runs one batch row alone, lane = unit,
// the lane's G gate columns (G * 32 weights) in its registers. The step has no
// block barrier and no shuffles, only __syncwarp, and its 4 gate chains give
// the scheduler independent work: at H = 32 the block-wide layout spent most
// of a step waiting on one dependent instruction after another
// (~155 instructions per warp per step at ~4.5 cycles each).
// Rows (warps) per block: kWarpRowMaxWarps; shared memory per warp:
// WarpRowSharedFloats (rnn_kernel_plans.h).

template <typename T, RnnCell kCell>
__global__ void __launch_bounds__(32 * kWarpRowMaxWarps, 1)
    WarpRowRnnKernel(const RowBlockParams<T> p) {
  constexpr int G = kCell == RnnCell::kLstm ? 4 : (kCell == RnnCell::kGru ? 3 : 1);
  extern __shared__ float4 shared_raw[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int b = blockIdx.x * (blockDim.x >> 5) + warp;
  if (b >= p.batch) return;  // whole warps only; no block-wide barrier follows
  float* const region = reinterpret_cast<float*>(shared_raw) + warp * WarpRowSharedFloats(G);
  float* const h_s = region;  // [2][32]
  const int units = p.units;
  const int n = G * units;
  const bool active = lane < units;
  const int u = active ? lane : 0;

  float w[G][32];
#pragma unroll
  for (int g = 0; g < G; ++g) {
#pragma unroll
    for (int k = 0; k < 32; ++k) {
      w[g][k] = (active && k < units)
                    ? ToAcc<float>(p.recurrent_kernel[static_cast<int64_t>(k) * n + g * units + u])
                    : 0.0f;
    }
  }
  float rec_bias[G];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    rec_bias[g] = (active && p.recurrent_bias) ? ToAcc<float>(p.recurrent_bias[g * units + u]) : 0.0f;
  }
  const int64_t at = static_cast<int64_t>(b) * units + u;
  float h = (active && p.initial_h) ? ToAcc<float>(p.initial_h[at]) : 0.0f;
  float c = (active && p.initial_c) ? ToAcc<float>(p.initial_c[at]) : 0.0f;
  float y = 0.0f;
  h_s[lane] = h;  // padding lanes hold 0 (their weights are 0 too)

  // x of step tau + kAhead - 1 is loaded into registers while step tau runs
  // (the loop is unrolled by kAhead so the register slots are static), into
  // the slot that step tau - 1 read: that value's last use is behind the
  // previous step's __syncwarp, so the load can target the slot's registers.
  // Reloading the slot the step itself reads let the compiler hoist the load
  // above the read and copy the loaded value into the slot at the group's end
  // (SASS: MOVs that waited for the loads). Loads are unpredicated (the
  // pointer stops at the last step).
  WaitForPreviousGrid();  // the input projection (xproj) is complete from here on
  constexpr int kAhead = 4;
  const int64_t t_step = p.go_backwards ? -1 : 1;
  const int t_first = p.go_backwards ? p.time - 1 : 0;
  const float* x_src = p.xproj + (static_cast<int64_t>(b) * p.time + t_first) * n + u;
  const int64_t x_advance = t_step * n;
  float x_next[kAhead][G];
  int x_loads_left = p.time;
  auto load_x = [&](int j) {  // j: register slot (compile-time after unrolling)
#pragma unroll
    for (int g = 0; g < G; ++g) x_next[j][g] = x_src[g * units];
    if (--x_loads_left > 0) x_src += x_advance;
  };
#pragma unroll
  for (int j = 0; j < kAhead - 1; ++j) load_x(j);

  // The mask of 32 steps is one warp vote: lane i reads step 32 c + i a chunk
  // ahead, the vote at the chunk's start gives bit i = keep step 32 c + i. No
  // per-step mask load, and the int32/bool branch runs once per 32 steps.
  const bool has_mask = p.mask != nullptr;
  int mask_ahead = 1;
  auto load_mask_chunk = [&](int chunk) {
    const int tau = chunk * 32 + lane;
    mask_ahead = 1;
    if (has_mask && tau < p.time) {
      const int64_t index = static_cast<int64_t>(b) * p.time + t_first + tau * t_step;
      mask_ahead = p.mask_is_int32 ? __ldg(static_cast<const int32_t*>(p.mask) + index)
                                   : __ldg(static_cast<const uint8_t*>(p.mask) + index);
    }
  };
  load_mask_chunk(0);
  unsigned keep_bits = __ballot_sync(~0u, mask_ahead != 0);
  load_mask_chunk(1);
  __syncwarp();

  const bool store_output = active && p.return_sequences;
  const bool zero_masked = p.zero_output_for_mask;
  T* out = p.output + static_cast<int64_t>(b) * p.time * units + u;
  // One step; j (the x slot, and tau's parity since groups start at multiples
  // of kAhead) is a compile-time constant after unrolling.
  auto run_step = [&](const int j, const int tau) {
    // h @ U for this unit's G columns: 2G independent FMA chains, the first
    // starting from x + bias (GRU's candidate: bias only, r scales it).
    float acc[G][2];
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const bool scaled_by_r = kCell == RnnCell::kGru && g == 2;
      acc[g][0] = scaled_by_r ? rec_bias[g] : x_next[j][g] + rec_bias[g];
      acc[g][1] = 0.0f;
    }
    const float x_cand = kCell == RnnCell::kGru ? x_next[j][G - 1] : 0.0f;
    load_x((j + kAhead - 1) % kAhead);  // step tau + kAhead - 1
    const bool keep = (keep_bits >> (tau & 31)) & 1u;

    const float4* const h4 = reinterpret_cast<const float4*>(h_s + (j & 1) * 32);
#pragma unroll
    for (int k4 = 0; k4 < 8; ++k4) {
      const float4 hv = h4[k4];  // broadcast
#pragma unroll
      for (int g = 0; g < G; ++g) {
        acc[g][0] = fmaf(hv.x, w[g][4 * k4], acc[g][0]);
        acc[g][1] = fmaf(hv.y, w[g][4 * k4 + 1], acc[g][1]);
        acc[g][0] = fmaf(hv.z, w[g][4 * k4 + 2], acc[g][0]);
        acc[g][1] = fmaf(hv.w, w[g][4 * k4 + 3], acc[g][1]);
      }
    }
    float z[G];
#pragma unroll
    for (int g = 0; g < G; ++g) z[g] = acc[g][0] + acc[g][1];
    float h_new, c_new = c;
    if constexpr (kCell == RnnCell::kLstm) {
      const float i = FastSigmoid(z[0]);
      const float f = FastSigmoid(z[1]);
      const float cand = FastTanh(z[2]);
      const float o = FastSigmoid(z[3]);
      c_new = fmaf(f, c, i * cand);
      h_new = o * FastTanh(c_new);
    } else if constexpr (kCell == RnnCell::kGru) {
      const float zg = FastSigmoid(z[0]);
      const float r = FastSigmoid(z[1]);
      const float hh = FastTanh(fmaf(r, z[2], x_cand));
      h_new = zg * h + (1.0f - zg) * hh;
    } else {
      h_new = FastTanh(z[0]);
    }
    h = keep ? h_new : h;
    c = keep ? c_new : c;
    y = keep ? RoundTo<T>(h_new) : (zero_masked ? 0.0f : y);
    h_s[((j + 1) & 1) * 32 + lane] = active ? h : 0.0f;
    if (store_output) {
      *out = FromAcc<T>(y);
      out += units;
    }
    __syncwarp();  // h of step tau + 1 visible to the whole warp
  };
  auto next_mask_chunk = [&](int tau0) {
    if (tau0 > 0 && (tau0 & 31) == 0) {
      keep_bits = __ballot_sync(~0u, mask_ahead != 0);
      load_mask_chunk(tau0 / 32 + 1);
    }
  };
  // Whole groups of kAhead steps, then the last time % kAhead. No exit inside
  // the unrolled group: an exit after each step made the compiler copy every
  // slot into fixed registers before it (SASS: a MOV of the x just loaded,
  // which waited for the load, on every step).
  static_assert(32 % kAhead == 0, "a mask chunk is whole unrolled groups");
  static_assert(kAhead % 2 == 0, "a group starts on an even step (h_s parity)");
  int tau0 = 0;
  for (; tau0 + kAhead <= p.time; tau0 += kAhead) {
    next_mask_chunk(tau0);
#pragma unroll
    for (int j = 0; j < kAhead; ++j) run_step(j, tau0 + j);
  }
  if (tau0 < p.time) {
    next_mask_chunk(tau0);
#pragma unroll
    for (int j = 0; j < kAhead - 1; ++j) {
      if (tau0 + j < p.time) run_step(j, tau0 + j);
    }
  }
  if (!active) return;
  if (p.final_h) p.final_h[at] = FromAcc<T>(h);
  if (p.final_c) p.final_c[at] = FromAcc<T>(c);
  if (!p.return_sequences && p.output) p.output[at] = FromAcc<T>(y);
}

template <typename T>
RowBlockParams<T> MakeParams(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                             const RowBlockPlan& plan, const float* xproj) {
  RowBlockParams<T> p;
  FillRecurrenceIo(config, args, xproj, &p);
  p.units_per_block = plan.units_per_block;
  p.cluster_size = plan.cluster_size;
  return p;
}

template <typename T, int KR, int R, RnnCell kCell>
int LaunchTyped(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  const RowBlockParams<T> p = MakeParams<T>(config, args, plan, xproj);
  auto kernel = RowBlockRnnKernel<T, KR, R, kCell>;
  cudaError_t error = EnsureDynamicSharedMemory(kernel, plan.shared_bytes);
  if (error != cudaSuccess) return error;
  if (plan.cluster_size == 1) {
    const KernelLaunch launch(plan.blocks, plan.threads, plan.shared_bytes, /*cluster_size=*/0,
                              stream, plan.overlap_projection);
    return cudaLaunchKernelEx(&launch.config, kernel, p);
  }
  int clusters = 0;
  if ((error = MaxActiveClusters(kernel, plan.threads, plan.shared_bytes, plan.cluster_size,
                                 &clusters)) != cudaSuccess) {
    return error;
  }
  // Clusters that do not fit at once would run as a second wave: not this plan.
  if (clusters * plan.cluster_size < plan.blocks) return cudaErrorCooperativeLaunchTooLarge;
  const KernelLaunch launch(plan.blocks, plan.threads, plan.shared_bytes, plan.cluster_size,
                            stream, plan.overlap_projection);
  return cudaLaunchKernelEx(&launch.config, kernel, p);
}

template <typename T, int KR, RnnCell kCell>
int LaunchForRows(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  switch (plan.rows_per_block) {
    case 1:
      return LaunchTyped<T, KR, 1, kCell>(config, args, plan, xproj, stream);
    case 2:
      return LaunchTyped<T, KR, 2, kCell>(config, args, plan, xproj, stream);
    case 4:
      return LaunchTyped<T, KR, 4, kCell>(config, args, plan, xproj, stream);
  }
  return cudaErrorInvalidValue;
}

template <typename T, int KR>
int LaunchForCell(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  switch (config.cell) {
    case RnnCell::kLstm:
      return LaunchForRows<T, KR, RnnCell::kLstm>(config, args, plan, xproj, stream);
    case RnnCell::kGru:
      return LaunchForRows<T, KR, RnnCell::kGru>(config, args, plan, xproj, stream);
    case RnnCell::kSimpleRnn:
      return LaunchForRows<T, KR, RnnCell::kSimpleRnn>(config, args, plan, xproj, stream);
  }
  return cudaErrorInvalidValue;
}

template <typename T, RnnCell kCell>
int LaunchWarpRow(const RowBlockParams<T>& p, const RowBlockPlan& plan, cudaStream_t stream) {
  auto kernel = WarpRowRnnKernel<T, kCell>;
  const cudaError_t error = EnsureDynamicSharedMemory(kernel, plan.shared_bytes);
  if (error != cudaSuccess) return error;
  const KernelLaunch launch(plan.blocks, plan.threads, plan.shared_bytes, /*cluster_size=*/0,
                            stream, plan.overlap_projection);
  return cudaLaunchKernelEx(&launch.config, kernel, p);
}

template <typename T>
int LaunchForType(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  switch (plan.register_k) {
    case 32: {  // warp-row mode
      const RowBlockParams<T> p = MakeParams<T>(config, args, plan, xproj);
      switch (config.cell) {
        case RnnCell::kLstm:
          return LaunchWarpRow<T, RnnCell::kLstm>(p, plan, stream);
        case RnnCell::kGru:
          return LaunchWarpRow<T, RnnCell::kGru>(p, plan, stream);
        case RnnCell::kSimpleRnn:
          return LaunchWarpRow<T, RnnCell::kSimpleRnn>(p, plan, stream);
      }
      return cudaErrorInvalidValue;
    }
    case 64:
      return LaunchForCell<T, 64>(config, args, plan, xproj, stream);
    case 128:
      return LaunchForCell<T, 128>(config, args, plan, xproj, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

int LaunchRowBlockRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                      const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  switch (args.dtype) {
    case DType::kFloat32:
      return LaunchForType<float>(config, args, plan, xproj, stream);
    case DType::kFloat16:
      return LaunchForType<__half>(config, args, plan, xproj, stream);
    case DType::kBFloat16:
      return LaunchForType<__nv_bfloat16>(config, args, plan, xproj, stream);
    case DType::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
