// Persistent masked recurrence (LSTM, GRU reset_after, SimpleRNN) in fp32
// arithmetic for float32 / float16 / bfloat16 tensors. See the header.
#include "kernels/rnn/masked_rnn_persistent.cuh"

#include <cooperative_groups.h>

#include <algorithm>
#include <cstdlib>

#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

template <typename T>
struct PersistentParams {
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
  float* hbuf;  // [2, B, U]
  unsigned* counters;
  CellSpec spec;
  int batch, time, units, gates;
  bool go_backwards, return_sequences, zero_output_for_mask;
  int units_per_block, unit_slices, batch_per_block;
  int k_splits, column_groups, row_groups, weight_pitch;
};

__device__ __forceinline__ unsigned LoadAcquire(const unsigned* address) {
  unsigned value;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(value) : "l"(address) : "memory");
  return value;
}

// Barrier among the blocks of one batch slice. counter counts arrivals since
// launch, so it never needs resetting inside the kernel.
__device__ __forceinline__ void GroupBarrier(unsigned* counter, unsigned target, bool alone) {
  __syncthreads();
  if (!alone && threadIdx.x == 0) {
    __threadfence();
    atomicAdd(counter, 1u);
    while (LoadAcquire(counter) < target) {
    }
  }
  __syncthreads();
}

template <int J>
__device__ __forceinline__ float Component(const float4& v) {
  return J == 0 ? v.x : (J == 1 ? v.y : (J == 2 ? v.z : v.w));
}

// kCluster: the blocks of a batch slice form one thread-block cluster; h of the
// slice lives in every block's shared memory (double-buffered), each block
// writes its units' new h into all of them (DSMEM) and a cluster barrier
// replaces the global-memory barrier. Otherwise h goes through L2.
template <typename T, int RB, bool kCluster>
__global__ void __launch_bounds__(kPersistentThreads, 1)
    PersistentRnnKernel(const PersistentParams<T> p) {
  namespace cg = cooperative_groups;
  extern __shared__ float4 shared_raw[];
  float* const smem = reinterpret_cast<float*>(shared_raw);
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

  float* const weights = smem;                                  // [U][pitch]
  float* const partial = weights + static_cast<size_t>(units) * pitch;  // [ks][rows][NC]
  float* const h_shared = partial + static_cast<size_t>(p.k_splits) * padded_rows * columns;
  // [2][batch_per_block][U] in cluster mode, else empty.
  float* const h_own = h_shared + (kCluster ? 2 * static_cast<size_t>(p.batch_per_block) * units : 0);
  float* const c_own = h_own + p.batch_per_block * uper;
  float* const y_own = c_own + p.batch_per_block * uper;
  float* const rec_bias = y_own + p.batch_per_block * uper;  // [NC]

  // Weights of this block's units, gate-major columns: c = g * uper + uu.
  for (int i = tid; i < units * columns; i += blockDim.x) {
    const int k = i / columns, c = i % columns;
    const int g = c / uper, uu = c % uper;
    weights[k * pitch + c] =
        ToAcc<float>(p.recurrent_kernel[static_cast<int64_t>(k) * gate_width + g * units + u0 + uu]);
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
  if (kCluster) {
    cg::cluster_group cluster = cg::this_cluster();
    cluster.sync();  // every block of the cluster runs before DSMEM is touched
    for (int i = tid; i < items; i += blockDim.x) {
      const int at = (i / uper) * units + u0 + i % uper;
      for (int r = 0; r < p.unit_slices; ++r) cluster.map_shared_rank(h_shared, r)[at] = h_own[i];
    }
    cluster.sync();
  } else {
    for (int i = tid; i < items; i += blockDim.x) {
      __stcg(p.hbuf + static_cast<int64_t>(b0 + i / uper) * units + u0 + i % uper, h_own[i]);
    }
    GroupBarrier(counter, p.unit_slices, alone);
  }

  const int tasks = p.k_splits * p.column_groups * p.row_groups;
  const int k4_count = units / 4;
  const int64_t batch_units = static_cast<int64_t>(p.batch) * units;
  for (int tau = 0; tau < p.time; ++tau) {
    const int t = p.go_backwards ? p.time - 1 - tau : tau;
    const size_t slice_units = static_cast<size_t>(p.batch_per_block) * units;
    const float* h_cur = kCluster ? h_shared + (tau & 1) * slice_units
                                  : p.hbuf + (tau & 1) * batch_units + static_cast<int64_t>(b0) * units;
    float* h_next = kCluster ? h_shared + ((tau + 1) & 1) * slice_units
                             : p.hbuf + ((tau + 1) & 1) * batch_units + static_cast<int64_t>(b0) * units;

    // Prefetch this thread's first epilogue inputs: they do not depend on h.
    float x_first[4] = {0.f, 0.f, 0.f, 0.f};
    bool keep_first = true;
    if (tid < items) {
      const int b = b0 + tid / uper, u = u0 + tid % uper;
      const int64_t row = static_cast<int64_t>(b) * p.time + t;
#pragma unroll
      for (int g = 0; g < 4; ++g) {
        if (g < p.gates) x_first[g] = p.xproj[row * gate_width + g * units + u];
      }
      keep_first = MaskAt(p.mask, p.mask_is_int32, row);
    }

    // Recurrent projection: partial[ks][b][c] = sum over this split's k of
    // h[b][k] * W[k][c]. Column groups vary fastest across lanes: the weight
    // reads are contiguous and the h reads are broadcasts.
    for (int task = tid; task < tasks; task += blockDim.x) {
      const int cg = task % p.column_groups;
      const int rest = task / p.column_groups;
      const int ks = rest % p.k_splits;
      const int rg = rest / p.k_splits;
      const float4* h_rows[RB];
#pragma unroll
      for (int r = 0; r < RB; ++r) {
        const int b = min(rg * RB + r, rows - 1);  // padded rows recompute a real one
        h_rows[r] = reinterpret_cast<const float4*>(h_cur + static_cast<int64_t>(b) * units);
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
          acc[r][0] = fmaf(hv[r].x, w0.x, acc[r][0]);
          acc[r][1] = fmaf(hv[r].x, w0.y, acc[r][1]);
          acc[r][2] = fmaf(hv[r].x, w0.z, acc[r][2]);
          acc[r][3] = fmaf(hv[r].x, w0.w, acc[r][3]);
          acc[r][0] = fmaf(hv[r].y, w1.x, acc[r][0]);
          acc[r][1] = fmaf(hv[r].y, w1.y, acc[r][1]);
          acc[r][2] = fmaf(hv[r].y, w1.z, acc[r][2]);
          acc[r][3] = fmaf(hv[r].y, w1.w, acc[r][3]);
          acc[r][0] = fmaf(hv[r].z, w2.x, acc[r][0]);
          acc[r][1] = fmaf(hv[r].z, w2.y, acc[r][1]);
          acc[r][2] = fmaf(hv[r].z, w2.z, acc[r][2]);
          acc[r][3] = fmaf(hv[r].z, w2.w, acc[r][3]);
          acc[r][0] = fmaf(hv[r].w, w3.x, acc[r][0]);
          acc[r][1] = fmaf(hv[r].w, w3.y, acc[r][1]);
          acc[r][2] = fmaf(hv[r].w, w3.z, acc[r][2]);
          acc[r][3] = fmaf(hv[r].w, w3.w, acc[r][3]);
        }
      }
#pragma unroll
      for (int r = 0; r < RB; ++r) {
        float4* out = reinterpret_cast<float4*>(
            partial + (static_cast<size_t>(ks) * padded_rows + rg * RB + r) * columns + cg * 4);
        *out = make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
      }
    }
    __syncthreads();

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
        keep = keep_first;
      } else {
#pragma unroll
        for (int g = 0; g < 4; ++g) {
          x_part[g] = g < p.gates ? p.xproj[row * gate_width + g * units + u] : 0.0f;
        }
        keep = MaskAt(p.mask, p.mask_is_int32, row);
      }
#pragma unroll
      for (int g = 0; g < 4; ++g) {
        float sum = 0.0f;
        if (g < p.gates) {
          const int c = g * uper + uu;
          for (int ks = 0; ks < p.k_splits; ++ks) {
            sum += partial[(static_cast<size_t>(ks) * padded_rows + b_local) * columns + c];
          }
          sum += rec_bias[c];
        }
        rec_part[g] = sum;
      }
      const float h = h_own[i];
      const float c = c_own[i];
      float c_new;
      const float h_new = CellUpdate(p.spec, x_part, rec_part, h, c, &c_new);
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
        p.output[(static_cast<int64_t>(b) * p.time + tau) * units + u] = FromAcc<T>(y);
      }
      if (kCluster) {
        cg::cluster_group cluster = cg::this_cluster();
        for (int r = 0; r < p.unit_slices; ++r) {
          cluster.map_shared_rank(h_next, r)[b_local * units + u] = h_own[i];
        }
      } else {
        __stcg(h_next + static_cast<int64_t>(b_local) * units + u, h_own[i]);
      }
    }
    if (kCluster) {
      cg::this_cluster().sync();
    } else {
      GroupBarrier(counter, static_cast<unsigned>(p.unit_slices) * (tau + 2), alone);
    }
  }

  for (int i = tid; i < items; i += blockDim.x) {
    const int b = b0 + i / uper, u = u0 + i % uper;
    const int64_t at = static_cast<int64_t>(b) * units + u;
    if (p.final_h) p.final_h[at] = FromAcc<T>(h_own[i]);
    if (p.final_c) p.final_c[at] = FromAcc<T>(c_own[i]);
    if (!p.return_sequences && p.output) p.output[at] = FromAcc<T>(y_own[i]);
  }
}

size_t SharedBytes(int units, int gates, int uper, int batch_per_block, int rb, int k_splits,
                   int row_groups, int pitch, bool cluster) {
  const size_t columns = static_cast<size_t>(gates) * uper;
  size_t floats = static_cast<size_t>(units) * pitch;
  if (cluster) floats += 2 * static_cast<size_t>(batch_per_block) * units;
  floats += static_cast<size_t>(k_splits) * row_groups * rb * columns;
  floats += 3 * static_cast<size_t>(batch_per_block) * uper;
  floats += columns;
  return floats * sizeof(float);
}

template <typename T, int RB, bool kCluster>
int LaunchTyped(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                const PersistentPlan& plan, const float* xproj, float* hbuf,
                unsigned* counters, cudaStream_t stream) {
  PersistentParams<T> p;
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
  p.hbuf = hbuf;
  p.counters = counters;
  p.spec = CellSpec{config.cell, config.activation, config.recurrent_activation};
  p.batch = static_cast<int>(config.batch);
  p.time = static_cast<int>(config.time);
  p.units = static_cast<int>(config.units);
  p.gates = GateCount(config.cell);
  p.go_backwards = config.go_backwards;
  p.return_sequences = config.return_sequences;
  p.zero_output_for_mask = config.zero_output_for_mask;
  p.units_per_block = plan.units_per_block;
  p.unit_slices = plan.unit_slices;
  p.batch_per_block = plan.batch_per_block;
  p.k_splits = plan.k_splits;
  p.column_groups = plan.column_groups;
  p.row_groups = plan.row_groups;
  p.weight_pitch = plan.weight_pitch;

  auto kernel = PersistentRnnKernel<T, RB, kCluster>;
  cudaError_t error = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(plan.shared_bytes));
  if (error != cudaSuccess) return error;
  if (kCluster) {
    // Clusters are co-scheduled by the hardware and independent of each other:
    // no cooperative launch (and no grid-wide co-residency) needed.
    cudaLaunchConfig_t launch = {};
    launch.gridDim = dim3(plan.blocks());
    launch.blockDim = dim3(kPersistentThreads);
    launch.dynamicSmemBytes = plan.shared_bytes;
    launch.stream = stream;
    cudaLaunchAttribute attribute[1];
    attribute[0].id = cudaLaunchAttributeClusterDimension;
    attribute[0].val.clusterDim.x = plan.unit_slices;
    attribute[0].val.clusterDim.y = 1;
    attribute[0].val.clusterDim.z = 1;
    launch.attrs = attribute;
    launch.numAttrs = 1;
    int clusters = 0;
    error = cudaOccupancyMaxActiveClusters(&clusters, kernel, &launch);
    if (error != cudaSuccess || clusters < 1) {
      cudaGetLastError();
      return cudaErrorCooperativeLaunchTooLarge;  // caller takes the simple path
    }
    return cudaLaunchKernelEx(&launch, kernel, p);
  }
  int per_sm = 0;
  error = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kPersistentThreads,
                                                        plan.shared_bytes);
  if (error != cudaSuccess) return error;
  if (per_sm < 1) return cudaErrorCooperativeLaunchTooLarge;
  error = cudaMemsetAsync(counters, 0, sizeof(unsigned) * plan.batch_slices, stream);
  if (error != cudaSuccess) return error;
  void* kernel_args[] = {&p};
  error = cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel), dim3(plan.blocks()),
                                      dim3(kPersistentThreads), kernel_args, plan.shared_bytes,
                                      stream);
  return error;
}

template <typename T>
int LaunchForRows(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                  const PersistentPlan& plan, const float* xproj, float* hbuf,
                  unsigned* counters, cudaStream_t stream) {
  if (plan.cluster) {
    switch (plan.rows_per_thread) {
      case 1:
        return LaunchTyped<T, 1, true>(config, args, plan, xproj, hbuf, counters, stream);
      case 2:
        return LaunchTyped<T, 2, true>(config, args, plan, xproj, hbuf, counters, stream);
      case 4:
        return LaunchTyped<T, 4, true>(config, args, plan, xproj, hbuf, counters, stream);
      case 8:
        return LaunchTyped<T, 8, true>(config, args, plan, xproj, hbuf, counters, stream);
    }
    return cudaErrorInvalidValue;
  }
  switch (plan.rows_per_thread) {
    case 1:
      return LaunchTyped<T, 1, false>(config, args, plan, xproj, hbuf, counters, stream);
    case 2:
      return LaunchTyped<T, 2, false>(config, args, plan, xproj, hbuf, counters, stream);
    case 4:
      return LaunchTyped<T, 4, false>(config, args, plan, xproj, hbuf, counters, stream);
    case 8:
      return LaunchTyped<T, 8, false>(config, args, plan, xproj, hbuf, counters, stream);
  }
  return cudaErrorInvalidValue;
}

constexpr int kMaxClusterBlocks = 8;

// Debug/benchmark knob: TFTRT_MASKING_RNN_NO_CLUSTER=1 keeps every barrier group
// on the global-memory barrier.
bool ForceGlobalBarrier() {
  const char* value = std::getenv("TFTRT_MASKING_RNN_NO_CLUSTER");
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}

}  // namespace

bool PlanPersistentRnn(const MaskedRnnConfig& config, DType dtype, int num_sms,
                       size_t shared_limit, PersistentPlan* plan) {
  if (dtype == DType::kFloat64) return false;
  if (config.cell == RnnCell::kGru && !config.reset_after) return false;
  if (config.batch < 1 || config.time < 1 || config.units % 4 != 0) return false;
  if (config.batch > (1 << 30) || config.time > (1 << 30) || config.units > (1 << 16)) return false;
  // The h buffer and xproj are indexed with int64; the block's own counters with int.
  const int units = static_cast<int>(config.units);
  const int batch = static_cast<int>(config.batch);
  const int gates = GateCount(config.cell);
  // Weights get most of shared memory; the rest holds partial sums and state.
  const size_t weight_budget = std::min<size_t>(shared_limit * 2 / 3, 150 * 1024);
  for (int uper = std::min(units, 32); uper >= 1; uper /= 2) {
    if (units % uper != 0) continue;
    const int columns = gates * uper;
    if (columns % 4 != 0) continue;
    const int unit_slices = units / uper;
    if (unit_slices > num_sms) break;  // smaller slices only need more blocks
    const int pitch = columns + 4;  // staggers banks across k rows
    if (static_cast<size_t>(units) * pitch * sizeof(float) > weight_budget) continue;
    int batch_slices = std::max(1, std::min(num_sms / unit_slices, batch));
    const int batch_per_block = (batch + batch_slices - 1) / batch_slices;
    batch_slices = (batch + batch_per_block - 1) / batch_per_block;
    int rb = 1;
    while (rb < 8 && rb < batch_per_block) rb *= 2;
    const int column_groups = columns / 4;
    const int row_groups = (batch_per_block + rb - 1) / rb;
    int k_splits = 1;
    while (k_splits * 2 * column_groups * row_groups <= kPersistentThreads &&
           k_splits * 2 <= units / 4) {
      k_splits *= 2;
    }
    // A barrier group of at most 8 blocks (the portable cluster size) runs as a
    // cluster with h in shared memory, when that fits.
    bool cluster = unit_slices <= kMaxClusterBlocks && !ForceGlobalBarrier();
    size_t shared = SharedBytes(units, gates, uper, batch_per_block, rb, k_splits, row_groups,
                                pitch, cluster);
    if (cluster && shared > shared_limit) {
      cluster = false;
      shared = SharedBytes(units, gates, uper, batch_per_block, rb, k_splits, row_groups, pitch,
                           false);
    }
    if (shared > shared_limit) continue;
    plan->cluster = cluster;
    plan->units_per_block = uper;
    plan->unit_slices = unit_slices;
    plan->batch_per_block = batch_per_block;
    plan->batch_slices = batch_slices;
    plan->rows_per_thread = rb;
    plan->k_splits = k_splits;
    plan->column_groups = column_groups;
    plan->row_groups = row_groups;
    plan->weight_pitch = pitch;
    plan->shared_bytes = shared;
    return true;
  }
  return false;
}

int LaunchPersistentRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                        const PersistentPlan& plan, const float* xproj, float* hbuf,
                        unsigned* counters, cudaStream_t stream) {
  switch (args.dtype) {
    case DType::kFloat32:
      return LaunchForRows<float>(config, args, plan, xproj, hbuf, counters, stream);
    case DType::kFloat16:
      return LaunchForRows<__half>(config, args, plan, xproj, hbuf, counters, stream);
    case DType::kBFloat16:
      return LaunchForRows<__nv_bfloat16>(config, args, plan, xproj, hbuf, counters, stream);
    case DType::kFloat64:
      break;
  }
  return cudaErrorInvalidValue;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
