// CPU gradient of the masked recurrences (masked_rnn_grad.h), TF-free.
//
// Work split: batch rows go in fixed blocks (MaskedRnnGradCpuBlockRows depends
// on the config only). A caller (the TF op) runs blocks on any threads with
// MaskedRnnGradCpuBlock: each writes its rows' d_x / d_initial_* and its own
// partial weight gradients; ReduceMaskedRnnGradCpuPartials then sums the
// partials in block order. The result is the same for any thread count.
//
// Per block: the forward CPU recurrence recomputes the states (bit-equal to the
// forward op's), then the gate pre-activations of all kept (row, step) pairs
// come from batched products; the backward runs tau = T-1..0 with Keras' carry
// rules and cell_grad.h's element-wise math, one product dG @ U^T per step;
// d_x and the weight gradients are products over all kept pairs afterwards
// (dW = X^T dG, dU = Hprev^T dG, db = column sums of dG). float16/bfloat16
// compute in float and round once.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_GRAD_CPU_H_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_GRAD_CPU_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/rnn/masked_rnn_cpu.h"
#include "kernels/rnn/masked_rnn_grad.h"

namespace tftrt_masking {

// Weights for the gradient, shared read-only by all blocks of a call.
template <typename Acc>
struct CpuGradWeights {
  CpuRnnWeights<Acc> forward;
  std::vector<Acc> kernel_t;            // [G*U, F]
  std::vector<Acc> recurrent_kernel_t;  // [G*U, U]
};

// One block of rows in the accumulation type; row r of x starts at
// x + r * T * F, and so on. Inputs may be nullptr where the API allows it.
template <typename Acc>
struct CpuGradBlock {
  int64_t rows = 0;
  const Acc* x = nullptr;           // [rows, T, F]
  const uint8_t* keep = nullptr;    // [rows, T]; nullptr = all
  const Acc* initial_h = nullptr;   // [rows, U]
  const Acc* initial_c = nullptr;   // [rows, U]
  const Acc* d_output = nullptr;    // [rows, T, U] or [rows, U]
  const Acc* d_final_h = nullptr;   // [rows, U]
  const Acc* d_final_c = nullptr;   // [rows, U]
  Acc* d_x = nullptr;               // [rows, T, F]
  Acc* d_initial_h = nullptr;       // [rows, U]
  Acc* d_initial_c = nullptr;       // [rows, U] (LSTM)
  Acc* partial = nullptr;           // MaskedRnnGradCpuPartialSize elements
};

// Rows per block: at most 32, fewer when a block's scratch would pass ~64 MiB.
int64_t MaskedRnnGradCpuBlockRows(const MaskedRnnConfig& config);
int64_t MaskedRnnGradCpuBlockCount(const MaskedRnnConfig& config);
// One block's partial weight gradients: [dW (F*G*U), dU (U*G*U), db (BiasSize)].
int64_t MaskedRnnGradCpuPartialSize(const MaskedRnnConfig& config);
// Rough cost of one block in cycles, for the caller's work sharder.
int64_t MaskedRnnGradCpuCostPerBlock(const MaskedRnnConfig& config);

// The gradient of one block (masked_rnn_grad_cpu.cc); config validated.
void MaskedRnnGradCpuBlockAcc(const MaskedRnnConfig& config, const CpuGradWeights<float>& weights,
                              const CpuGradBlock<float>& block);
void MaskedRnnGradCpuBlockAcc(const MaskedRnnConfig& config,
                              const CpuGradWeights<double>& weights,
                              const CpuGradBlock<double>& block);

// Checks the config and the pointers the config needs; nullptr when fine.
template <typename T, typename MaskT>
const char* ValidateMaskedRnnGradArgs(const MaskedRnnConfig& config,
                                      const MaskedRnnGradArgs<T, MaskT>& args) {
  if (const char* error = ValidateMaskedRnnConfig(config)) return error;
  const bool lstm = config.cell == RnnCell::kLstm;
  if (args.forward.x == nullptr || args.forward.kernel == nullptr ||
      args.forward.recurrent_kernel == nullptr || (config.has_bias && args.forward.bias == nullptr)) {
    return "masked RNN gradient: x, kernel, recurrent_kernel (and bias when used) are required";
  }
  if (args.d_x == nullptr || args.d_kernel == nullptr || args.d_recurrent_kernel == nullptr ||
      (config.has_bias && args.d_bias == nullptr) || args.d_initial_h == nullptr ||
      (lstm && args.d_initial_c == nullptr)) {
    return "masked RNN gradient: every outgoing gradient of the config must be given";
  }
  return nullptr;
}

namespace cpu_internal {

// src itself when T is Acc, else a converted copy in *storage (nullptr stays).
template <typename Acc, typename T>
const Acc* AsAcc(const T* src, int64_t n, std::vector<Acc>* storage) {
  if (src == nullptr) return nullptr;
  if constexpr (std::is_same<T, Acc>::value) {
    return src;
  } else {
    storage->resize(n);
    return ConvertInto(src, n, storage, 0);
  }
}

// dst itself when T is Acc, else a scratch buffer in *storage (see StoreFrom).
template <typename Acc, typename T>
Acc* OutAcc(T* dst, int64_t n, std::vector<Acc>* storage) {
  if (dst == nullptr) return nullptr;
  if constexpr (std::is_same<T, Acc>::value) {
    return dst;
  } else {
    storage->resize(n);
    return storage->data();
  }
}

template <typename Acc, typename T>
void StoreFrom(const std::vector<Acc>& storage, int64_t n, T* dst) {
  if constexpr (!std::is_same<T, Acc>::value) {
    if (dst == nullptr) return;
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(storage[i]);
  }
}

template <typename Acc>
void Transpose(const Acc* src, int64_t rows, int64_t cols, std::vector<Acc>* dst) {
  dst->resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) (*dst)[c * rows + r] = src[r * cols + c];
  }
}

}  // namespace cpu_internal

template <typename T, typename MaskT>
CpuGradWeights<CpuAccType<T>> PrepareCpuGradWeights(const MaskedRnnConfig& config,
                                                    const MaskedRnnGradArgs<T, MaskT>& args) {
  const int64_t width = GateCount(config.cell) * config.units;
  CpuGradWeights<CpuAccType<T>> weights;
  weights.forward = PrepareCpuRnnWeights(config, args.forward);
  cpu_internal::Transpose(weights.forward.kernel, config.input_size, width, &weights.kernel_t);
  cpu_internal::Transpose(weights.forward.recurrent_kernel, config.units, width,
                          &weights.recurrent_kernel_t);
  return weights;
}

// Block `index` of args (rows [index * BlockRows, ...)). partial: this
// block's MaskedRnnGradCpuPartialSize elements. Thread-safe across blocks.
template <typename T, typename MaskT>
void MaskedRnnGradCpuBlock(const MaskedRnnConfig& config,
                           const CpuGradWeights<CpuAccType<T>>& weights,
                           const MaskedRnnGradArgs<T, MaskT>& args, int64_t index,
                           CpuAccType<T>* partial) {
  using Acc = CpuAccType<T>;
  const int64_t steps = config.time, features = config.input_size, units = config.units;
  const int64_t out_per_row = config.return_sequences ? steps * units : units;
  const bool lstm = config.cell == RnnCell::kLstm;
  const int64_t row0 = index * MaskedRnnGradCpuBlockRows(config);
  const int64_t rows = std::min(MaskedRnnGradCpuBlockRows(config), config.batch - row0);
  const MaskedRnnArgs<T, MaskT>& fwd = args.forward;
  auto at = [&](auto* p, int64_t per_row) { return p == nullptr ? p : p + row0 * per_row; };
  std::vector<Acc> x, h0, c0, dy, dh1, dc1, dx, dh0, dc0;
  std::vector<uint8_t> keep;
  CpuGradBlock<Acc> block;
  block.rows = rows;
  block.x = cpu_internal::AsAcc(at(fwd.x, steps * features), rows * steps * features, &x);
  if (fwd.mask != nullptr) {
    cpu_internal::MaskToKeep(fwd.mask + row0 * steps, rows * steps, &keep);
    block.keep = keep.data();
  }
  block.initial_h = cpu_internal::AsAcc(at(fwd.initial_h, units), rows * units, &h0);
  block.d_output = cpu_internal::AsAcc(at(args.d_output, out_per_row), rows * out_per_row, &dy);
  block.d_final_h = cpu_internal::AsAcc(at(args.d_final_h, units), rows * units, &dh1);
  block.d_x = cpu_internal::OutAcc(at(args.d_x, steps * features), rows * steps * features, &dx);
  block.d_initial_h = cpu_internal::OutAcc(at(args.d_initial_h, units), rows * units, &dh0);
  if (lstm) {
    block.initial_c = cpu_internal::AsAcc(at(fwd.initial_c, units), rows * units, &c0);
    block.d_final_c = cpu_internal::AsAcc(at(args.d_final_c, units), rows * units, &dc1);
    block.d_initial_c = cpu_internal::OutAcc(at(args.d_initial_c, units), rows * units, &dc0);
  }
  block.partial = partial;
  MaskedRnnGradCpuBlockAcc(config, weights, block);
  cpu_internal::StoreFrom(dx, rows * steps * features, at(args.d_x, steps * features));
  cpu_internal::StoreFrom(dh0, rows * units, at(args.d_initial_h, units));
  if (lstm) cpu_internal::StoreFrom(dc0, rows * units, at(args.d_initial_c, units));
}

// d_kernel, d_recurrent_kernel, d_bias = the sum of the blocks' partials
// ([blocks, PartialSize]) in block order, rounded once to T.
template <typename T, typename MaskT>
void ReduceMaskedRnnGradCpuPartials(const MaskedRnnConfig& config, const CpuAccType<T>* partials,
                                    int64_t blocks, const MaskedRnnGradArgs<T, MaskT>& args) {
  using Acc = CpuAccType<T>;
  const int64_t width = GateCount(config.cell) * config.units;
  const int64_t kernel_size = config.input_size * width;
  const int64_t recurrent_size = config.units * width;
  const int64_t size = MaskedRnnGradCpuPartialSize(config);
  for (int64_t i = 0; i < size; ++i) {
    Acc sum = blocks > 0 ? partials[i] : Acc(0);
    for (int64_t b = 1; b < blocks; ++b) sum = sum + partials[b * size + i];
    if (i < kernel_size) {
      args.d_kernel[i] = static_cast<T>(sum);
    } else if (i < kernel_size + recurrent_size) {
      args.d_recurrent_kernel[i - kernel_size] = static_cast<T>(sum);
    } else {
      args.d_bias[i - kernel_size - recurrent_size] = static_cast<T>(sum);
    }
  }
}

// The gradient on the calling thread (masked_rnn_grad.h).
template <typename T, typename MaskT>
const char* MaskedRnnGradCpu(const MaskedRnnConfig& config,
                             const MaskedRnnGradArgs<T, MaskT>& args) {
  if (const char* error = ValidateMaskedRnnGradArgs(config, args)) return error;
  const auto weights = PrepareCpuGradWeights(config, args);
  const int64_t blocks = MaskedRnnGradCpuBlockCount(config);
  const int64_t size = MaskedRnnGradCpuPartialSize(config);
  std::vector<CpuAccType<T>> partials(blocks * size);
  for (int64_t b = 0; b < blocks; ++b) {
    MaskedRnnGradCpuBlock(config, weights, args, b, partials.data() + b * size);
  }
  ReduceMaskedRnnGradCpuPartials(config, partials.data(), blocks, args);
  return nullptr;
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_GRAD_CPU_H_
