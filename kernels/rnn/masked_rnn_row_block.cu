// Row-block masked recurrence (LSTM, GRU reset_after, SimpleRNN) in fp32
// arithmetic for float32 / float16 / bfloat16 tensors. See the header.
#include "kernels/rnn/masked_rnn_row_block.cuh"

#include <algorithm>
#include <cstdlib>

#include "kernels/rnn/kernel_attributes.cuh"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

constexpr int kMaxThreads = 512;  // gate columns; 128 registers per thread at most
constexpr int kMaxRows = 4;
// Steps of xproj and mask in flight: an L2 round trip (~0.3-0.5 us measured on
// H100/H200) is several small steps long, so loading one step ahead still
// stalled every step (0.6 us/step at H = 32).
constexpr int kStages = 8;

__device__ __forceinline__ unsigned SharedAddress(const void* pointer) {
  return static_cast<unsigned>(__cvta_generic_to_shared(pointer));
}
// 4-byte asynchronous copy global -> shared; bytes past src_bytes are zeroed.
__device__ __forceinline__ void CopyAsync4(void* shared, const void* global, int src_bytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(SharedAddress(shared)),
               "l"(global), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void CopyAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
// Waits until at most `kPending` of this thread's newest copy groups are in flight.
template <int kPending>
__device__ __forceinline__ void CopyAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

template <typename T>
struct RowBlockParams {
  const float* xproj;  // [B, T, N]
  const void* mask;
  bool mask_is_int32;
  const T* recurrent_kernel;  // [U, N]
  const T* recurrent_bias;    // [N] (GRU reset_after) or nullptr
  const T* initial_h;
  const T* initial_c;
  T* output;
  T* final_h;
  T* final_c;
  int batch, time, units, k_pitch;
  bool go_backwards, return_sequences, zero_output_for_mask;
};

// The Keras default activations (the only ones this kernel serves), from one
// exp and one fast reciprocal each: ~1e-7 absolute error, far inside the
// 1e-5 bound, and a third of the instructions of expf / IEEE division / tanhf
// on the step's serial chain (one warp per scheduler: every instruction on it
// costs its full latency).
__device__ __forceinline__ float FastSigmoid(float x) {
  return __fdividef(1.0f, 1.0f + __expf(-x));
}
__device__ __forceinline__ float FastTanh(float x) {  // 1 - 2 / (1 + e^{2x}), saturates to +-1
  return 1.0f - __fdividef(2.0f, 1.0f + __expf(2.0f * x));
}

// Thread layout: P consecutive lanes own the gate columns of one unit (P = 4:
// LSTM i, f, c, o or GRU z, r, h and an idle lane; P = 1: SimpleRNN), so the
// cell update gathers its gates with warp shuffles and a step needs a single
// __syncthreads (after the new h is written).
//
// Shared memory, in floats: weights past register_k as float4 [k4][threads],
// h double-buffered [2][R][k_pitch], the xproj ring [kStages][R][threads] and
// the mask ring [kStages][R] (4-byte words holding the step's mask element).
__host__ __device__ inline size_t RowBlockSharedFloats(int threads, int k_pitch, int register_k,
                                                       int rows) {
  return static_cast<size_t>(k_pitch - register_k) * threads +
         2 * static_cast<size_t>(rows) * k_pitch +
         static_cast<size_t>(kStages) * rows * (threads + 1);
}

constexpr int LanesPerUnit(RnnCell cell) { return cell == RnnCell::kSimpleRnn ? 1 : 4; }

template <typename T, int KR, int R, RnnCell kCell>
__global__ void __launch_bounds__(kMaxThreads, 1) RowBlockRnnKernel(const RowBlockParams<T> p) {
  constexpr int P = LanesPerUnit(kCell);
  constexpr int kGates = kCell == RnnCell::kLstm ? 4 : (kCell == RnnCell::kGru ? 3 : 1);
  extern __shared__ float4 shared_raw[];
  const int tid = threadIdx.x;
  const int threads = blockDim.x;
  const int units = p.units;
  const int n = kGates * units;
  const int kp = p.k_pitch;
  const int k4_shared = (kp - KR) / 4;
  const float4* const w_shared = shared_raw;  // [k4_shared][threads]
  float* const h_s = reinterpret_cast<float*>(shared_raw + static_cast<size_t>(k4_shared) * threads);
  float* const x_ring = h_s + 2 * R * kp;  // [kStages][R][threads]
  uint32_t* const mask_ring = reinterpret_cast<uint32_t*>(x_ring + kStages * R * threads);

  const int b0 = blockIdx.x * R;
  const int rows = min(R, p.batch - b0);
  const int unit = tid / P, gate = tid % P;
  const bool column = unit < units && gate < kGates;
  const int col = column ? gate * units + unit : 0;  // Keras column; idle lanes shadow 0
  const bool owner = column && gate == 0;           // holds the unit's c, h, output

  // This thread's column of the recurrent kernel: rows [0, KR) in registers,
  // the rest in shared memory (float4 of 4 consecutive k, conflict-free).
  float w[KR];
#pragma unroll
  for (int k = 0; k < KR; ++k) {
    w[k] = (column && k < units)
               ? ToAcc<float>(p.recurrent_kernel[static_cast<int64_t>(k) * n + col])
               : 0.0f;
  }
  for (int k4 = 0; k4 < k4_shared; ++k4) {
    float v[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int k = KR + 4 * k4 + q;
      v[q] = (column && k < units)
                 ? ToAcc<float>(p.recurrent_kernel[static_cast<int64_t>(k) * n + col])
                 : 0.0f;
    }
    shared_raw[static_cast<size_t>(k4) * threads + tid] = make_float4(v[0], v[1], v[2], v[3]);
  }
  const float rec_bias =
      (column && p.recurrent_bias) ? ToAcc<float>(p.recurrent_bias[col]) : 0.0f;

  // State of (row r, this unit), owner lanes only: h, c, the previous output.
  float h[R], c[R], y[R];
  for (int i = tid; i < 2 * R * kp; i += threads) h_s[i] = 0.0f;  // padding k stays 0
  __syncthreads();
#pragma unroll
  for (int r = 0; r < R; ++r) {
    h[r] = c[r] = y[r] = 0.0f;
    if (owner && r < rows) {
      const int64_t at = static_cast<int64_t>(b0 + r) * units + unit;
      if (p.initial_h) h[r] = ToAcc<float>(p.initial_h[at]);
      if (p.initial_c) c[r] = ToAcc<float>(p.initial_c[at]);
      h_s[r * kp + unit] = h[r];
    }
  }

  // xproj and mask of step tau + kStages - 1 are copied while step tau runs.
  // Each column thread copies (and later reads) its own column; thread r < rows
  // copies row r's mask word, which the owners read after a barrier. Sources
  // are walked with pointers (one add per step) to keep index math off the
  // step.
  const int64_t t_step = p.go_backwards ? -1 : 1;  // source steps per processing step
  const int t_first = p.go_backwards ? p.time - 1 : 0;
  const float* x_src[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    x_src[r] = p.xproj + (static_cast<int64_t>(b0 + min(r, rows - 1)) * p.time + t_first) * n + col;
  }
  const int mask_element = p.mask_is_int32 ? 4 : 1;
  const uint8_t* const mask_base = static_cast<const uint8_t*>(p.mask);
  const uint8_t* const mask_end = mask_base + static_cast<int64_t>(p.batch) * p.time * mask_element;
  const uint8_t* mask_src =  // row tid's element; the copy takes the aligned word holding it
      mask_base + (static_cast<int64_t>(b0 + min(tid, rows - 1)) * p.time + t_first) * mask_element;
  const bool copies_mask = mask_base != nullptr && tid < rows;
  const bool copies_x = column;
  auto copy_step = [&](int step) {
    if (step < p.time) {
      const int slot = step % kStages;
      if (copies_x) {
#pragma unroll
        for (int r = 0; r < R; ++r) {
          if (r < rows) CopyAsync4(x_ring + (slot * R + r) * threads + tid, x_src[r], 4);
          x_src[r] += t_step * n;
        }
      }
      if (copies_mask) {
        // The launcher checks the base is 4-byte aligned; only bytes inside
        // the mask are read (the rest of a last partial word is zero-filled).
        const uint8_t* word = reinterpret_cast<const uint8_t*>(
            reinterpret_cast<uintptr_t>(mask_src) & ~uintptr_t{3});
        const int64_t left = mask_end - word;
        CopyAsync4(mask_ring + slot * R + tid, word, left < 4 ? static_cast<int>(left) : 4);
        mask_src += t_step * mask_element;
      }
    }
    CopyAsyncCommit();  // one group per step, empty past the end, so waits count steps
  };
  // Invariant: before the barrier that opens step tau, every thread's copies of
  // step tau have landed (wait for all but the newest kStages - 2 groups).
  for (int step = 0; step < kStages - 1; ++step) copy_step(step);
  CopyAsyncWait<kStages - 2>();
  __syncthreads();

  // Owners: byte position of row r's mask element in its word (bool masks),
  // advanced with t; output pointers advance one step of units per step.
  int mask_shift[R];
  T* out[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t first = static_cast<int64_t>(b0 + min(r, rows - 1)) * p.time + t_first;
    mask_shift[r] = mask_base ? static_cast<int>(reinterpret_cast<uintptr_t>(mask_base + first) & 3) : 0;
    out[r] = p.output + static_cast<int64_t>(b0 + min(r, rows - 1)) * p.time * units + unit;
  }
  const int kp4 = kp / 4;
  for (int tau = 0; tau < p.time; ++tau) {
    const int slot = tau % kStages;
    const float4* const h_cur = reinterpret_cast<const float4*>(h_s + (tau & 1) * R * kp);
    float* const h_next = h_s + ((tau + 1) & 1) * R * kp;
    copy_step(tau + kStages - 1);

    // h @ U for this column; four partial sums keep the FMA chains short.
    float acc[R][4];
#pragma unroll
    for (int r = 0; r < R; ++r) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[r][q] = 0.0f;
    }
#pragma unroll
    for (int k4 = 0; k4 < KR / 4; ++k4) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float4 hv = h_cur[r * kp4 + k4];  // broadcast
        acc[r][0] = fmaf(hv.x, w[4 * k4], acc[r][0]);
        acc[r][1] = fmaf(hv.y, w[4 * k4 + 1], acc[r][1]);
        acc[r][2] = fmaf(hv.z, w[4 * k4 + 2], acc[r][2]);
        acc[r][3] = fmaf(hv.w, w[4 * k4 + 3], acc[r][3]);
      }
    }
#pragma unroll 4
    for (int k4 = 0; k4 < k4_shared; ++k4) {
      const float4 wv = w_shared[static_cast<size_t>(k4) * threads + tid];
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float4 hv = h_cur[r * kp4 + KR / 4 + k4];
        acc[r][0] = fmaf(hv.x, wv.x, acc[r][0]);
        acc[r][1] = fmaf(hv.y, wv.y, acc[r][1]);
        acc[r][2] = fmaf(hv.z, wv.z, acc[r][2]);
        acc[r][3] = fmaf(hv.w, wv.w, acc[r][3]);
      }
    }

#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (r >= rows) break;
      const float rec = ((acc[r][0] + acc[r][1]) + (acc[r][2] + acc[r][3])) + rec_bias;
      const float x = x_ring[(slot * R + r) * threads + tid];
      // Column activation without divergence: LSTM's cell candidate is
      // tanh(a) = 2 sigmoid(2a) - 1; GRU's candidate column stays raw (it
      // needs r first: hh = tanh(x_h + r * (h @ U_h + b_h))).
      float v;
      if constexpr (kCell == RnnCell::kLstm) {
        const bool cand = gate == 2;
        const float s = FastSigmoid(cand ? 2.0f * (x + rec) : x + rec);
        v = cand ? 2.0f * s - 1.0f : s;
      } else if constexpr (kCell == RnnCell::kGru) {
        v = gate == 2 ? rec : FastSigmoid(x + rec);
      } else {
        v = FastTanh(x + rec);
      }
      float g1 = 0.0f, g2 = 0.0f, g3 = 0.0f, x2 = 0.0f;  // the unit's other gates
      if constexpr (P == 4) {
        g1 = __shfl_down_sync(0xffffffffu, v, 1);
        g2 = __shfl_down_sync(0xffffffffu, v, 2);
        if constexpr (kCell == RnnCell::kLstm) g3 = __shfl_down_sync(0xffffffffu, v, 3);
        if constexpr (kCell == RnnCell::kGru) x2 = __shfl_down_sync(0xffffffffu, x, 2);
      }
      if (owner) {
        float h_new, c_new = c[r];
        if constexpr (kCell == RnnCell::kLstm) {  // v = i, g1 = f, g2 = c~, g3 = o
          c_new = g1 * c[r] + v * g2;
          h_new = g3 * FastTanh(c_new);
        } else if constexpr (kCell == RnnCell::kGru) {  // v = z, g1 = r, g2 = h@U_h + b_h
          const float hh = FastTanh(x2 + g1 * g2);
          h_new = v * h[r] + (1.0f - v) * hh;
        } else {
          h_new = v;
        }
        bool keep = true;
        if (mask_base != nullptr) {
          const uint32_t word = mask_ring[slot * R + r];
          keep = p.mask_is_int32 ? word != 0 : ((word >> (8 * mask_shift[r])) & 0xffu) != 0;
          mask_shift[r] = (mask_shift[r] + static_cast<int>(t_step)) & 3;
        }
        if (keep) {
          h[r] = h_new;
          c[r] = c_new;
          y[r] = RoundTo<T>(h_new);
        } else if (p.zero_output_for_mask) {
          y[r] = 0.0f;
        }
        h_next[r * kp + unit] = h[r];
        if (p.return_sequences) {
          *out[r] = FromAcc<T>(y[r]);
          out[r] += units;
        }
      }
    }
    CopyAsyncWait<kStages - 2>();  // step tau + 1's copies, before the barrier
    __syncthreads();
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

template <typename T, int KR, int R, RnnCell kCell>
int LaunchTyped(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  RowBlockParams<T> p;
  p.xproj = xproj;
  p.mask = args.mask;
  p.mask_is_int32 = args.mask_dtype == MaskDType::kInt32;
  p.recurrent_kernel = static_cast<const T*>(args.recurrent_kernel);
  const bool two_biases = config.cell == RnnCell::kGru && config.reset_after;
  p.recurrent_bias = (two_biases && config.has_bias && args.bias)
                         ? static_cast<const T*>(args.bias) + GateCount(config.cell) * config.units
                         : nullptr;
  p.initial_h = static_cast<const T*>(args.initial_h);
  p.initial_c = config.cell == RnnCell::kLstm ? static_cast<const T*>(args.initial_c) : nullptr;
  p.output = static_cast<T*>(args.output);
  p.final_h = static_cast<T*>(args.final_h);
  p.final_c = config.cell == RnnCell::kLstm ? static_cast<T*>(args.final_c) : nullptr;
  p.batch = static_cast<int>(config.batch);
  p.time = static_cast<int>(config.time);
  p.units = static_cast<int>(config.units);
  p.k_pitch = plan.k_pitch;
  p.go_backwards = config.go_backwards;
  p.return_sequences = config.return_sequences;
  p.zero_output_for_mask = config.zero_output_for_mask;
  auto kernel = RowBlockRnnKernel<T, KR, R, kCell>;
  const cudaError_t error = EnsureDynamicSharedMemory(kernel, plan.shared_bytes);
  if (error != cudaSuccess) return error;
  kernel<<<plan.blocks, plan.threads, plan.shared_bytes, stream>>>(p);
  return cudaGetLastError();
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

template <typename T>
int LaunchForType(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const RowBlockPlan& plan, const float* xproj, cudaStream_t stream) {
  if (plan.register_k == 32) return LaunchForCell<T, 32>(config, args, plan, xproj, stream);
  if (plan.register_k == 64) return LaunchForCell<T, 64>(config, args, plan, xproj, stream);
  return cudaErrorInvalidValue;
}

}  // namespace

bool PlanRowBlockRnn(const MaskedRnnConfig& config, DType dtype, int num_sms,
                     size_t shared_limit, RowBlockPlan* plan) {
  const char* off = std::getenv("TFTRT_MASKING_RNN_NO_ROW_BLOCK");
  if (off != nullptr && off[0] != '\0' && off[0] != '0') return false;
  if (dtype == DType::kFloat64) return false;
  if (config.cell == RnnCell::kGru && !config.reset_after) return false;
  // Only the Keras default activations (tanh, sigmoid) are compiled in.
  if (config.activation != Activation::kTanh ||
      (config.cell != RnnCell::kSimpleRnn && config.recurrent_activation != Activation::kSigmoid)) {
    return false;
  }
  if (config.batch < 1 || config.time < 1 || config.time > (int64_t{1} << 30)) return false;
  const int lanes_per_unit = config.cell == RnnCell::kSimpleRnn ? 1 : 4;
  const int64_t lanes = lanes_per_unit * config.units;
  if (config.units < 1 || lanes > kMaxThreads) return false;
  // Past kMaxRows rows per SM the sliced persistent kernel, which shares each
  // weight among many rows, does less work per row.
  int rows = 1;
  while (rows < kMaxRows && (config.batch + rows - 1) / rows > num_sms) rows *= 2;
  if ((config.batch + rows - 1) / rows > num_sms) return false;
  const int units = static_cast<int>(config.units);
  const int threads = static_cast<int>((lanes + 31) / 32 * 32);
  const int register_k = units <= 32 ? 32 : 64;
  const int k_pitch = std::max((units + 3) / 4 * 4, register_k);
  const size_t shared =
      RowBlockSharedFloats(threads, k_pitch, register_k, rows) * sizeof(float);
  if (shared > shared_limit) return false;
  plan->threads = threads;
  plan->lanes_per_unit = lanes_per_unit;
  plan->register_k = register_k;
  plan->k_pitch = k_pitch;
  plan->rows_per_block = rows;
  plan->blocks = static_cast<int>((config.batch + rows - 1) / rows);
  plan->shared_bytes = shared;
  return true;
}

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
