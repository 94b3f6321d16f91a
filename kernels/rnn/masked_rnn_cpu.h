// CPU implementation of the masked recurrences (masked_rnn.h), TF-free.
//
// Work split: a caller (the TF op) shards the batch rows over threads and calls
// MaskedRnnCpuRows() per shard; rows are independent. Within a shard the input
// projection x_t @ W of all (row, step) pairs of a block is ONE matrix product,
// then the recurrence runs step by step over the rows of the block.
//
// Numerics (float32): every dot product is a sequential fused multiply-add over
// k starting from 0, which is what TensorFlow's CPU MatMul computes for K up to a
// few hundred; element-wise ops follow Keras' cell op by op (no contraction),
// and tanh/sigmoid reproduce Eigen's float approximations (what TF's Tanh and
// Sigmoid kernels compute). A row's result never depends on the batch size,
// the sharding, or other rows, so "masked holes == sequence with the steps
// removed" holds bit-exactly. float16/bfloat16 compute in float32 (state kept in
// float32 within a call); float64 computes in double with std:: functions.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_CPU_H_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_CPU_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {

// Accumulation type of element type T: double for double, float otherwise.
template <typename T>
using CpuAccType = typename std::conditional<std::is_same<T, double>::value, double, float>::type;

// Weights in the accumulation type, shared read-only by all shards of a call.
// Points at the caller's tensors when no conversion is needed.
template <typename Acc>
struct CpuRnnWeights {
  const Acc* kernel = nullptr;            // [F, G*U]
  const Acc* recurrent_kernel = nullptr;  // [U, G*U]
  const Acc* input_bias = nullptr;        // [G*U] or nullptr
  const Acc* recurrent_bias = nullptr;    // [G*U], GRU reset_after only, or nullptr
  std::vector<Acc> storage;               // converted copies (float16/bfloat16)
};

// One block of batch rows, everything in the accumulation type. Row r of x
// starts at x + r * time * input_size, and so on.
template <typename Acc>
struct CpuRowsBlock {
  int64_t rows = 0;
  const Acc* x = nullptr;          // [rows, T, F]
  const uint8_t* keep = nullptr;   // [rows, T], nonzero = keep; nullptr = all
  const Acc* initial_h = nullptr;  // [rows, U]; nullptr = zeros
  const Acc* initial_c = nullptr;  // [rows, U]; nullptr = zeros (LSTM)
  Acc* output = nullptr;           // [rows, T, U] or [rows, U]
  Acc* final_h = nullptr;          // [rows, U] or nullptr
  Acc* final_c = nullptr;          // [rows, U] or nullptr (LSTM)
  // The gradient's recompute: the state after each step tau (processing
  // order, masked steps included), or nullptr.
  Acc* state_trace_h = nullptr;    // [rows, T, U]
  Acc* state_trace_c = nullptr;    // [rows, T, U] (LSTM)
  // h@U of each kept step (no bias), [rows, T, G*U]; GRU reset_before: h@U_zr
  // in the first 2U columns, (r*h)@U_h in the last U. Masked steps: untouched.
  Acc* recurrent_trace = nullptr;
};

// The recurrence on one block of rows (masked_rnn_cpu.cc). The config must
// have passed ValidateMaskedRnnConfig.
void MaskedRnnCpuBlock(const MaskedRnnConfig& config, const CpuRnnWeights<float>& weights,
                       const CpuRowsBlock<float>& block);
void MaskedRnnCpuBlock(const MaskedRnnConfig& config, const CpuRnnWeights<double>& weights,
                       const CpuRowsBlock<double>& block);

// c[i, :n_cols] = a_rows[i][:depth] @ b[:depth, :n_cols] (row stride ldb), plus
// bias[n] when given; c is [m, n_cols]. The forward's product (same bits on
// every CPU), shared with the gradient.
void CpuGemmRows(const float* const* a_rows, int64_t m, int64_t depth, const float* b,
                 int64_t ldb, int64_t n_cols, const float* bias, float* c);
void CpuGemmRows(const double* const* a_rows, int64_t m, int64_t depth, const double* b,
                 int64_t ldb, int64_t n_cols, const double* bias, double* c);

// v[i] = activation(v[i]) as the forward computes it (float: Eigen's tanh and
// sigmoid, vectorized).
void CpuApplyActivation(Activation activation, float* v, int64_t n);
void CpuApplyActivation(Activation activation, double* v, int64_t n);

// Rough cost of one batch row in cycles, for the caller's work sharder.
int64_t MaskedRnnCpuCostPerRow(const MaskedRnnConfig& config);

// Which build of the loops runs: 0 generic x86-64, 1 AVX2 + FMA, 2 AVX-512
// float products (all give the same bits).
int MaskedRnnCpuLevel();

// Keras' float activations as TensorFlow computes them on the CPU (exposed for
// tests): Eigen's rational tanh and exp-based logistic, without FMA.
float TfCpuTanh(float x);
float TfCpuSigmoid(float x);

namespace cpu_internal {

// Tests set this to cap the build that runs (-1 = no cap; see MaskedRnnCpuLevel).
int& ForcedCpuLevelForTesting();

template <typename Acc, typename T>
const Acc* ConvertInto(const T* src, int64_t n, std::vector<Acc>* storage, int64_t offset) {
  Acc* dst = storage->data() + offset;
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Acc>(src[i]);
  return dst;
}

template <typename MaskT>
void MaskToKeep(const MaskT* mask, int64_t n, std::vector<uint8_t>* keep) {
  keep->resize(n);
  for (int64_t i = 0; i < n; ++i) (*keep)[i] = mask[i] ? 1 : 0;
}

}  // namespace cpu_internal

// Converts (or points at) the weights of args for MaskedRnnCpuRows.
template <typename T, typename MaskT>
CpuRnnWeights<CpuAccType<T>> PrepareCpuRnnWeights(const MaskedRnnConfig& config,
                                                  const MaskedRnnArgs<T, MaskT>& args) {
  using Acc = CpuAccType<T>;
  const int64_t gate_width = GateCount(config.cell) * config.units;
  const int64_t kernel_size = config.input_size * gate_width;
  const int64_t recurrent_size = config.units * gate_width;
  const int64_t bias_size = (config.has_bias && args.bias != nullptr) ? BiasSize(config) : 0;
  const bool two_biases = config.cell == RnnCell::kGru && config.reset_after;
  CpuRnnWeights<Acc> weights;
  if constexpr (std::is_same<T, Acc>::value) {
    weights.kernel = args.kernel;
    weights.recurrent_kernel = args.recurrent_kernel;
    if (bias_size > 0) weights.input_bias = args.bias;
  } else {
    weights.storage.resize(kernel_size + recurrent_size + bias_size);
    weights.kernel = cpu_internal::ConvertInto(args.kernel, kernel_size, &weights.storage, 0);
    weights.recurrent_kernel = cpu_internal::ConvertInto(args.recurrent_kernel, recurrent_size,
                                                         &weights.storage, kernel_size);
    if (bias_size > 0) {
      weights.input_bias = cpu_internal::ConvertInto(args.bias, bias_size, &weights.storage,
                                                     kernel_size + recurrent_size);
    }
  }
  if (two_biases && weights.input_bias != nullptr) {
    weights.recurrent_bias = weights.input_bias + gate_width;
  }
  return weights;
}

namespace cpu_internal {

// float / double: the block points straight into the caller's tensors.
template <typename T, typename MaskT>
void RowsInPlace(const MaskedRnnConfig& config, const CpuRnnWeights<T>& weights,
                 const MaskedRnnArgs<T, MaskT>& args, int64_t row_begin, int64_t row_end) {
  const int64_t steps = config.time, units = config.units;
  const int64_t out_per_row = config.return_sequences ? steps * units : units;
  const bool lstm = config.cell == RnnCell::kLstm;
  auto rows_of = [&](auto* p) { return p == nullptr ? nullptr : p + row_begin * units; };
  std::vector<uint8_t> keep;
  CpuRowsBlock<T> block;
  block.rows = row_end - row_begin;
  block.x = args.x + row_begin * steps * config.input_size;
  if (args.mask != nullptr) {
    const MaskT* mask = args.mask + row_begin * steps;
    if constexpr (sizeof(MaskT) == 1) {
      block.keep = reinterpret_cast<const uint8_t*>(mask);
    } else {
      MaskToKeep(mask, block.rows * steps, &keep);
      block.keep = keep.data();
    }
  }
  block.initial_h = rows_of(args.initial_h);
  block.initial_c = lstm ? rows_of(args.initial_c) : nullptr;
  block.output = args.output + row_begin * out_per_row;
  block.final_h = rows_of(args.final_h);
  block.final_c = lstm ? rows_of(args.final_c) : nullptr;
  MaskedRnnCpuBlock(config, weights, block);
}

// float16 / bfloat16: converts a few rows at a time into float, runs them and
// converts the results back; about 2^20 elements per buffer.
template <typename T, typename MaskT>
void RowsConverted(const MaskedRnnConfig& config, const CpuRnnWeights<float>& weights,
                   const MaskedRnnArgs<T, MaskT>& args, int64_t row_begin, int64_t row_end) {
  const int64_t steps = config.time, features = config.input_size, units = config.units;
  const int64_t out_per_row = config.return_sequences ? steps * units : units;
  const bool lstm = config.cell == RnnCell::kLstm;
  const int64_t per_row = std::max<int64_t>({steps * features, out_per_row, units, 1});
  const int64_t rows_per_block = std::max<int64_t>(1, (int64_t{1} << 20) / per_row);
  std::vector<uint8_t> keep;
  std::vector<float> x, h0, c0, out, h1, c1;
  for (int64_t b0 = row_begin; b0 < row_end; b0 += rows_per_block) {
    const int64_t rows = std::min(rows_per_block, row_end - b0);
    CpuRowsBlock<float> block;
    block.rows = rows;
    x.resize(rows * steps * features);
    block.x = ConvertInto(args.x + b0 * steps * features, rows * steps * features, &x, 0);
    if (args.mask != nullptr) {
      MaskToKeep(args.mask + b0 * steps, rows * steps, &keep);
      block.keep = keep.data();
    }
    if (args.initial_h != nullptr) {
      h0.resize(rows * units);
      block.initial_h = ConvertInto(args.initial_h + b0 * units, rows * units, &h0, 0);
    }
    if (lstm && args.initial_c != nullptr) {
      c0.resize(rows * units);
      block.initial_c = ConvertInto(args.initial_c + b0 * units, rows * units, &c0, 0);
    }
    out.resize(rows * out_per_row);
    h1.resize(rows * units);
    c1.resize(rows * units);
    block.output = out.data();
    block.final_h = h1.data();
    block.final_c = lstm ? c1.data() : nullptr;
    MaskedRnnCpuBlock(config, weights, block);
    for (int64_t i = 0; i < rows * out_per_row; ++i) {
      args.output[b0 * out_per_row + i] = static_cast<T>(out[i]);
    }
    for (int64_t i = 0; i < rows * units; ++i) {
      if (args.final_h != nullptr) args.final_h[b0 * units + i] = static_cast<T>(h1[i]);
      if (lstm && args.final_c != nullptr) args.final_c[b0 * units + i] = static_cast<T>(c1[i]);
    }
  }
}

}  // namespace cpu_internal

// Runs batch rows [row_begin, row_end) of args. Thread-safe across disjoint
// row ranges sharing one `weights`.
template <typename T, typename MaskT>
void MaskedRnnCpuRows(const MaskedRnnConfig& config, const CpuRnnWeights<CpuAccType<T>>& weights,
                      const MaskedRnnArgs<T, MaskT>& args, int64_t row_begin, int64_t row_end) {
  if constexpr (std::is_same<T, CpuAccType<T>>::value) {
    cpu_internal::RowsInPlace(config, weights, args, row_begin, row_end);
  } else {
    cpu_internal::RowsConverted(config, weights, args, row_begin, row_end);
  }
}

// All rows on the calling thread. Returns ValidateMaskedRnnConfig's message, or
// nullptr when it ran.
template <typename T, typename MaskT>
const char* MaskedRnnCpu(const MaskedRnnConfig& config, const MaskedRnnArgs<T, MaskT>& args) {
  if (const char* error = ValidateMaskedRnnConfig(config)) return error;
  const auto weights = PrepareCpuRnnWeights(config, args);
  MaskedRnnCpuRows(config, weights, args, 0, config.batch);
  return nullptr;
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_CPU_H_
