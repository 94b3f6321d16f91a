// The per-step path of the GPU recurrence. See masked_rnn_per_step.cuh.
#include "kernels/rnn/masked_rnn_per_step.cuh"

#include <algorithm>
#include <type_traits>

#include "kernels/rnn/masked_rnn_workspace.h"
#include "kernels/rnn/rnn_device.cuh"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

template <typename T, typename Acc>
struct SimpleParams {
  const Acc* xproj;  // [B, T, N]
  const void* mask;
  bool mask_is_int32;
  const T* recurrent_kernel;  // [U, N]
  const T* recurrent_bias;    // GRU reset_after: [N]; else nullptr
  const T* initial_h;
  const T* initial_c;
  T* output;
  T* final_h;
  T* final_c;
  Acc* h;   // [2, B, U]
  Acc* c;   // [B, U]
  Acc* y;   // [B, U] previous output, rounded to T
  Acc* rh;  // [B, U] GRU reset_after=false: r * h
  Acc* z;   // [B, U] GRU reset_after=false: update gate
  Acc* step_partial;  // [k_splits][B, N]: h @ U of the step, one partial sum per K slice
  int k_splits;
  CellSpec spec;
  int64_t batch, time, units;
  int gates;
  bool reset_after, go_backwards, return_sequences, zero_output_for_mask;
};

template <typename T, typename Acc>
__global__ void SimpleInitKernel(const SimpleParams<T, Acc> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  p.h[i] = p.initial_h ? ToAcc<Acc>(p.initial_h[i]) : Acc(0);
  p.c[i] = p.initial_c ? ToAcc<Acc>(p.initial_c[i]) : Acc(0);
  p.y[i] = Acc(0);
}

// State select and output write shared by the simple step kernels.
template <typename T, typename Acc>
__device__ __forceinline__ void Commit(const SimpleParams<T, Acc>& p, int64_t b, int64_t u,
                                       int tau, int64_t t, Acc h_old, Acc h_new, Acc c_new,
                                       Acc* h_next) {
  const int64_t at = b * p.units + u;
  const bool keep = MaskAt(p.mask, p.mask_is_int32, b * p.time + t);
  Acc y;
  if (keep) {
    h_next[at] = h_new;
    p.c[at] = c_new;
    y = RoundTo<T>(h_new);
  } else {
    h_next[at] = h_old;
    y = p.zero_output_for_mask ? Acc(0) : p.y[at];
  }
  p.y[at] = y;
  if (p.return_sequences) p.output[(b * p.time + tau) * p.units + u] = FromAcc<T>(y);
}

// The step's recurrent product h @ U for every cell but GRU reset_after=false:
// step_partial[ks][b][c] = sum over K slice ks of h[b][k] * U[k][c]. Block =
// kStepColumns columns x kStepRows rows x one K slice; h of its rows is staged
// in shared memory kStepChunk k at a time, each thread owns one column (the
// weight loads are coalesced rows of U, the h reads broadcasts).
constexpr int kStepColumns = 128, kStepRows = 8, kStepChunk = 128;

template <typename T, typename Acc>
__global__ void __launch_bounds__(kStepColumns)
    StepProductKernel(const SimpleParams<T, Acc> p, int tau, int64_t first_row) {
  __shared__ Acc h_chunk[kStepRows][kStepChunk];
  const int64_t n = p.gates * p.units;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kStepColumns + threadIdx.x;
  const int ks = blockIdx.y;
  const int64_t b0 = first_row + static_cast<int64_t>(blockIdx.z) * kStepRows;
  const int rows = static_cast<int>(min(static_cast<int64_t>(kStepRows), p.batch - b0));
  const int64_t slice = (p.units + p.k_splits - 1) / p.k_splits;
  const int64_t k_begin = ks * slice, k_end = min(p.units, k_begin + slice);
  const Acc* h_cur = p.h + (tau & 1) * p.batch * p.units;
  Acc acc[kStepRows];
#pragma unroll
  for (int r = 0; r < kStepRows; ++r) acc[r] = Acc(0);
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kStepChunk) {
    const int chunk = static_cast<int>(min(static_cast<int64_t>(kStepChunk), k_end - k0));
    __syncthreads();  // the previous chunk's readers are done
    for (int i = threadIdx.x; i < kStepRows * kStepChunk; i += kStepColumns) {
      const int r = i / kStepChunk, kk = i % kStepChunk;
      h_chunk[r][kk] = (r < rows && kk < chunk) ? h_cur[(b0 + r) * p.units + k0 + kk] : Acc(0);
    }
    __syncthreads();
    if (col < n) {
      const T* w = p.recurrent_kernel + k0 * n + col;
#pragma unroll 4
      for (int kk = 0; kk < chunk; ++kk) {
        const Acc wk = ToAcc<Acc>(w[kk * n]);
#pragma unroll
        for (int r = 0; r < kStepRows; ++r) acc[r] += h_chunk[r][kk] * wk;
      }
    }
  }
  if (col >= n) return;
  Acc* out = p.step_partial + (static_cast<int64_t>(ks) * p.batch + b0) * n + col;
  for (int r = 0; r < rows; ++r) out[r * n] = acc[r];
}

// One step for every cell but GRU reset_after=false, after StepProductKernel.
template <typename T, typename Acc>
__global__ void SimpleStepKernel(const SimpleParams<T, Acc> p, int tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  const int64_t b = i / p.units, u = i % p.units;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t n = p.gates * p.units;
  const Acc* h_cur = p.h + (tau & 1) * p.batch * p.units;
  Acc* h_next = p.h + ((tau + 1) & 1) * p.batch * p.units;
  Acc x_part[4] = {Acc(0), Acc(0), Acc(0), Acc(0)};
  Acc rec_part[4] = {Acc(0), Acc(0), Acc(0), Acc(0)};
  const Acc* x_row = p.xproj + (b * p.time + t) * n;
  const int64_t split_stride = p.batch * n;
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    if (g < p.gates) {
      const Acc* part = p.step_partial + b * n + g * p.units + u;
      for (int ks = 0; ks < p.k_splits; ++ks) rec_part[g] += part[ks * split_stride];
      x_part[g] = x_row[g * p.units + u];
      if (p.recurrent_bias) rec_part[g] += ToAcc<Acc>(p.recurrent_bias[g * p.units + u]);
    }
  }
  const int64_t at = b * p.units + u;
  Acc c_new;
  const Acc h_old = h_cur[at];
  const Acc h_new = CellUpdate(p.spec, x_part, rec_part, h_old, p.c[at], &c_new);
  Commit(p, b, u, tau, t, h_old, h_new, c_new, h_next);
}

// GRU reset_after=false, phase 1: z, r and r*h of every unit.
template <typename T, typename Acc>
__global__ void GruResetBeforePhase1(const SimpleParams<T, Acc> p, int tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  const int64_t b = i / p.units, u = i % p.units;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t n = 3 * p.units;
  const Acc* h_row = p.h + (tau & 1) * p.batch * p.units + b * p.units;
  Acc rz = Acc(0), rr = Acc(0);
  for (int64_t k = 0; k < p.units; ++k) {
    const Acc hk = h_row[k];
    rz += hk * ToAcc<Acc>(p.recurrent_kernel[k * n + u]);
    rr += hk * ToAcc<Acc>(p.recurrent_kernel[k * n + p.units + u]);
  }
  const Acc* x_row = p.xproj + (b * p.time + t) * n;
  const Acc z = Activate(p.spec.recurrent_activation, x_row[u] + rz);
  const Acc r = Activate(p.spec.recurrent_activation, x_row[p.units + u] + rr);
  p.z[i] = z;
  p.rh[i] = r * h_row[u];
}

// GRU reset_after=false, phase 2: hh = act(x_h + (r*h) @ U_h), then commit.
template <typename T, typename Acc>
__global__ void GruResetBeforePhase2(const SimpleParams<T, Acc> p, int tau) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  const int64_t b = i / p.units, u = i % p.units;
  const int64_t t = p.go_backwards ? p.time - 1 - tau : tau;
  const int64_t n = 3 * p.units;
  const Acc* rh_row = p.rh + b * p.units;
  Acc rec = Acc(0);
  for (int64_t k = 0; k < p.units; ++k) {
    rec += rh_row[k] * ToAcc<Acc>(p.recurrent_kernel[k * n + 2 * p.units + u]);
  }
  const Acc* x_row = p.xproj + (b * p.time + t) * n;
  const Acc hh = Activate(p.spec.activation, x_row[2 * p.units + u] + rec);
  const Acc* h_cur = p.h + (tau & 1) * p.batch * p.units;
  Acc* h_next = p.h + ((tau + 1) & 1) * p.batch * p.units;
  const Acc h_old = h_cur[i];
  const Acc z = p.z[i];
  const Acc h_new = z * h_old + (Acc(1) - z) * hh;
  Commit(p, b, u, tau, t, h_old, h_new, p.c[i], h_next);
}

template <typename T, typename Acc>
__global__ void SimpleFinalKernel(const SimpleParams<T, Acc> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.units) return;
  const Acc* h_last = p.h + (p.time & 1) * p.batch * p.units;
  if (p.final_h) p.final_h[i] = FromAcc<T>(h_last[i]);
  if (p.final_c) p.final_c[i] = FromAcc<T>(p.c[i]);
  if (!p.return_sequences && p.output) p.output[i] = FromAcc<T>(p.y[i]);
}

template <typename T, typename Acc>
int LaunchPerStepTyped(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                       char* workspace, cudaStream_t stream) {
  const WorkspaceLayout layout = Layout(config, args.dtype);
  const int gates = GateCount(config.cell);
  const int64_t n = gates * config.units;
  const bool two_biases = config.cell == RnnCell::kGru && config.reset_after;
  const T* bias = config.has_bias ? static_cast<const T*>(args.bias) : nullptr;
  SimpleParams<T, Acc> p;
  p.xproj = reinterpret_cast<const Acc*>(workspace + layout.xproj);
  p.mask = args.mask;
  p.mask_is_int32 = args.mask_dtype == MaskDType::kInt32;
  p.recurrent_kernel = static_cast<const T*>(args.recurrent_kernel);
  p.recurrent_bias = (two_biases && bias) ? bias + n : nullptr;
  p.initial_h = static_cast<const T*>(args.initial_h);
  p.initial_c = config.cell == RnnCell::kLstm ? static_cast<const T*>(args.initial_c) : nullptr;
  p.output = static_cast<T*>(args.output);
  p.final_h = static_cast<T*>(args.final_h);
  p.final_c = config.cell == RnnCell::kLstm ? static_cast<T*>(args.final_c) : nullptr;
  p.h = reinterpret_cast<Acc*>(workspace + layout.h);
  p.c = reinterpret_cast<Acc*>(workspace + layout.c);
  p.y = reinterpret_cast<Acc*>(workspace + layout.y);
  p.rh = reinterpret_cast<Acc*>(workspace + layout.scratch);
  p.z = p.rh + config.batch * config.units;
  p.step_partial = reinterpret_cast<Acc*>(workspace + layout.step_partial);
  p.k_splits = PerStepKSplits(config);
  p.spec = CellSpec{config.cell, config.activation, config.recurrent_activation};
  p.batch = config.batch;
  p.time = config.time;
  p.units = config.units;
  p.gates = gates;
  p.reset_after = config.reset_after;
  p.go_backwards = config.go_backwards;
  p.return_sequences = config.return_sequences;
  p.zero_output_for_mask = config.zero_output_for_mask;

  const int64_t threads = config.batch * config.units;
  const unsigned blocks = static_cast<unsigned>((threads + 255) / 256);
  constexpr int64_t kMaxRowTiles = 65535;
  const dim3 product_grid(static_cast<unsigned>((n + kStepColumns - 1) / kStepColumns),
                          static_cast<unsigned>(p.k_splits), 1);
  SimpleInitKernel<T, Acc><<<blocks, 256, 0, stream>>>(p);
  const bool gru_reset_before = config.cell == RnnCell::kGru && !config.reset_after;
  for (int64_t tau = 0; tau < config.time; ++tau) {
    if (gru_reset_before) {
      GruResetBeforePhase1<T, Acc><<<blocks, 256, 0, stream>>>(p, static_cast<int>(tau));
      GruResetBeforePhase2<T, Acc><<<blocks, 256, 0, stream>>>(p, static_cast<int>(tau));
    } else {
      // gridDim.z is at most 65535: batches past 65535 row tiles take several launches.
      for (int64_t first_row = 0; first_row < config.batch;
           first_row += int64_t{kMaxRowTiles} * kStepRows) {
        dim3 grid = product_grid;
        grid.z = static_cast<unsigned>(std::min<int64_t>(
            kMaxRowTiles, (config.batch - first_row + kStepRows - 1) / kStepRows));
        StepProductKernel<T, Acc><<<grid, kStepColumns, 0, stream>>>(p, static_cast<int>(tau),
                                                                      first_row);
      }
      SimpleStepKernel<T, Acc><<<blocks, 256, 0, stream>>>(p, static_cast<int>(tau));
    }
  }
  SimpleFinalKernel<T, Acc><<<blocks, 256, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

int LaunchPerStepRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                     char* workspace, cudaStream_t stream) {
  switch (args.dtype) {
    case DType::kFloat32:
      return LaunchPerStepTyped<float, float>(config, args, workspace, stream);
    case DType::kFloat16:
      return LaunchPerStepTyped<__half, float>(config, args, workspace, stream);
    case DType::kBFloat16:
      return LaunchPerStepTyped<__nv_bfloat16, float>(config, args, workspace, stream);
    case DType::kFloat64:
      return LaunchPerStepTyped<double, double>(config, args, workspace, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking
