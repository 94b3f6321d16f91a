// Small-shape driver for compute-sanitizer (memcheck, racecheck): runs every
// cell, dtype and mask kind on both recurrence paths and the masking kernel,
// on exactly-sized cudaMalloc buffers so any out-of-bounds access is caught.
// Correctness is checked by bench/harness.py; this checks memory and races.
// `sanitize_driver grad` runs only the gradient launches (LaunchMaskedRnnGrad);
// `grad --products` the shapes of its tensor-core products.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/masking/masking.h"
#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_grad.h"

using namespace tftrt_masking;

namespace {

int failures = 0;
Activation rnn_activation = Activation::kTanh;  // of every RunRnn's config

void Check(int status, const char* what) {
  if (status != 0) {
    std::printf("FAIL %s: %s\n", what, cudaGetErrorString(static_cast<cudaError_t>(status)));
    ++failures;
  }
}

size_t ElementBytes(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 2;
    case DType::kFloat64: return 8;
  }
  return 4;
}

// Random values as raw bits of the dtype (small magnitudes, any finite value is fine here).
void* DeviceRandom(size_t count, DType dtype, std::mt19937* rng) {
  if (count == 0) return nullptr;
  std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
  std::vector<unsigned char> host(count * ElementBytes(dtype));
  for (size_t i = 0; i < count; ++i) {
    const float v = dist(*rng);
    if (dtype == DType::kFloat32) {
      std::memcpy(&host[i * 4], &v, 4);
    } else if (dtype == DType::kFloat64) {
      const double d = v;
      std::memcpy(&host[i * 8], &d, 8);
    } else {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      uint16_t h;
      if (dtype == DType::kBFloat16) {
        h = static_cast<uint16_t>(bits >> 16);
      } else {  // crude float -> half for |v| < 1: fine as test data
        const uint32_t sign = (bits >> 16) & 0x8000u;
        const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
        h = exponent <= 0 ? static_cast<uint16_t>(sign)
                          : static_cast<uint16_t>(sign | (exponent << 10) | ((bits >> 13) & 0x3ff));
      }
      std::memcpy(&host[i * 2], &h, 2);
    }
  }
  void* device = nullptr;
  Check(cudaMalloc(&device, host.size()), "cudaMalloc");
  Check(cudaMemcpy(device, host.data(), host.size(), cudaMemcpyHostToDevice), "memcpy");
  return device;
}

void* DeviceMask(int64_t batch, int64_t time, MaskDType mask_dtype, std::mt19937* rng) {
  const size_t count = static_cast<size_t>(batch * time);
  if (count == 0) return nullptr;
  std::bernoulli_distribution keep(0.7);
  std::vector<int32_t> values(count);
  for (auto& v : values) v = keep(*rng) ? 1 : 0;
  for (int64_t t = 0; t < time; ++t) values[t] = 0;  // a fully masked row
  void* device = nullptr;
  if (mask_dtype == MaskDType::kInt32) {
    Check(cudaMalloc(&device, count * 4), "cudaMalloc");
    Check(cudaMemcpy(device, values.data(), count * 4, cudaMemcpyHostToDevice), "memcpy");
  } else {
    std::vector<unsigned char> bytes(values.begin(), values.end());
    Check(cudaMalloc(&device, count), "cudaMalloc");
    Check(cudaMemcpy(device, bytes.data(), count, cudaMemcpyHostToDevice), "memcpy");
  }
  return device;
}

MaskedRnnConfig MakeConfig(RnnCell cell, bool reset_after, int64_t batch, int64_t time,
                           int64_t features, int64_t units, bool go_backwards,
                           bool return_sequences) {
  MaskedRnnConfig config;
  config.cell = cell;
  config.batch = batch;
  config.time = time;
  config.input_size = features;
  config.units = units;
  config.reset_after = reset_after;
  config.go_backwards = go_backwards;
  config.return_sequences = return_sequences;
  config.activation = rnn_activation;
  // SANITIZE_ACTIVATION / SANITIZE_RECURRENT_ACTIVATION (Keras names): other
  // activations than tanh / sigmoid (the row-group variants' kernels).
  if (const char* name = std::getenv("SANITIZE_ACTIVATION")) {
    if (!ParseActivation(name, &config.activation)) {
      std::printf("FAIL activation %s\n", name);
      ++failures;
    }
  }
  if (const char* name = std::getenv("SANITIZE_RECURRENT_ACTIVATION")) {
    if (!ParseActivation(name, &config.recurrent_activation)) {
      std::printf("FAIL recurrent activation %s\n", name);
      ++failures;
    }
  }
  return config;
}

// Tensor-core block kernel (33-128 units) alone, every cell, fp32/fp16/bf16,
// default and other activations: `sanitize_driver block` (its racecheck fits a
// short device call).
void RunRnn(RnnCell cell, bool reset_after, DType dtype, MaskDType mask_dtype, int64_t batch,
            int64_t time, int64_t features, int64_t units, bool go_backwards,
            bool return_sequences, int path, std::mt19937* rng);

int RunBlockCases(std::mt19937* rng) {
  struct CellCase { RnnCell cell; bool reset_after; };
  const CellCase cells[] = {{RnnCell::kLstm, true}, {RnnCell::kGru, true}, {RnnCell::kGru, false},
                            {RnnCell::kSimpleRnn, true}};
  int index = 0;
  for (const CellCase& c : cells) {
    for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
      for (Activation activation : {Activation::kTanh, Activation::kRelu}) {
        rnn_activation = activation;
        const MaskDType mask_dtype = index % 2 ? MaskDType::kInt32 : MaskDType::kBool;
        RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 9, 3, 3, 128, index % 3 == 0, true, 0,
               rng);
        RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 5, 2, 3, 100, index % 2 == 0, false, 0,
               rng);
        RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 3, 2, 3, 40, true, index % 2 == 1, 0,
               rng);
        ++index;
      }
    }
  }
  rnn_activation = Activation::kTanh;
  std::printf("sanitize driver (block): %d failures\n", failures);
  return failures ? 1 : 0;
}

void RunRnn(RnnCell cell, bool reset_after, DType dtype, MaskDType mask_dtype, int64_t batch,
            int64_t time, int64_t features, int64_t units, bool go_backwards,
            bool return_sequences, int path, std::mt19937* rng) {
  // path 0: auto (row-block kernel, clusters / tensor cores where they apply),
  // 1: global-memory barrier, 2: simple, 3: no tensor cores; only 0 may take
  // the row-block kernel.
  // SANITIZE_MAX_UNITS=N: only the recurrences with at most N units (a quick
  // racecheck of the small-recurrence kernels).
  if (const char* max_units = std::getenv("SANITIZE_MAX_UNITS")) {
    if (units > std::atoll(max_units)) return;
  }
  // SANITIZE_ROW_GROUP=1: only the calls the tensor-core row-group kernel may
  // take (auto path, 65-512 units, fp16/bf16, fp32 up to 128): a racecheck of
  // its variants within a short device call.
  if (std::getenv("SANITIZE_ROW_GROUP") &&
      (path != 0 || units < 65 || dtype == DType::kFloat64 ||
       (dtype == DType::kFloat32 && units > 128))) {
    return;
  }
  const bool simple = path == 2;
  setenv("TFTRT_MASKING_RNN_SIMPLE", simple ? "1" : "0", 1);
  setenv("TFTRT_MASKING_RNN_NO_ROW_BLOCK", path == 0 ? "0" : "1", 1);
  setenv("TFTRT_MASKING_RNN_NO_CLUSTER", path == 1 ? "1" : "0", 1);
  setenv("TFTRT_MASKING_RNN_NO_MMA", path == 3 ? "1" : "0", 1);
  const MaskedRnnConfig config = MakeConfig(cell, reset_after, batch, time, features, units,
                                            go_backwards, return_sequences);
  const int64_t n = GateCount(cell) * units;
  MaskedRnnGpuArgs args;
  args.dtype = dtype;
  args.mask_dtype = mask_dtype;
  args.x = DeviceRandom(batch * time * features, dtype, rng);
  args.mask = DeviceMask(batch, time, mask_dtype, rng);
  args.kernel = DeviceRandom(features * n, dtype, rng);
  args.recurrent_kernel = DeviceRandom(units * n, dtype, rng);
  args.bias = DeviceRandom(BiasSize(config), dtype, rng);
  args.initial_h = DeviceRandom(batch * units, dtype, rng);
  args.initial_c = cell == RnnCell::kLstm ? DeviceRandom(batch * units, dtype, rng) : nullptr;
  const size_t e = ElementBytes(dtype);
  void *output = nullptr, *final_h = nullptr, *final_c = nullptr, *workspace = nullptr;
  const size_t out_count = return_sequences ? batch * time * units : batch * units;
  if (out_count) Check(cudaMalloc(&output, out_count * e), "cudaMalloc");
  if (batch * units) Check(cudaMalloc(&final_h, batch * units * e), "cudaMalloc");
  if (cell == RnnCell::kLstm && batch * units) Check(cudaMalloc(&final_c, batch * units * e), "m");
  args.output = output;
  args.final_h = final_h;
  args.final_c = final_c;
  const size_t ws = MaskedRnnGpuWorkspaceBytes(config, dtype);
  Check(cudaMalloc(&workspace, ws), "cudaMalloc");
  char what[160];
  std::snprintf(what, sizeof(what), "rnn cell=%d ra=%d dtype=%d mask=%d B=%lld T=%lld U=%lld %s",
                static_cast<int>(cell), reset_after, static_cast<int>(dtype),
                static_cast<int>(mask_dtype), static_cast<long long>(batch),
                static_cast<long long>(time), static_cast<long long>(units),
                path == 3 ? "nomma" : (path == 2 ? "simple" : (path == 1 ? "global" : "auto")));
  const auto start = std::chrono::steady_clock::now();
  Check(LaunchMaskedRnn(config, args, workspace, ws, nullptr), what);
  Check(cudaDeviceSynchronize(), what);
  // Progress in the log: which case a sanitizer that runs out of time was in.
  std::fprintf(stderr, "%.1f s: %s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               what);
  for (const void* p : {args.x, args.mask, args.kernel, args.recurrent_kernel, args.bias,
                        args.initial_h, args.initial_c}) {
    cudaFree(const_cast<void*>(p));
  }
  for (void* p : {output, final_h, final_c, workspace}) cudaFree(p);
}

// `sanitize_driver grad --auto-only`: the gradient on the launcher's choice only
// (racecheck of a new kernel without re-running the unchanged paths).
bool grad_auto_only = false;
// `sanitize_driver grad --products`: only the shapes whose products over all
// pairs run on the tensor-core tiles (RunGradProductCases).
bool grad_products = false;

// One gradient call on exactly-sized buffers, every incoming gradient given.
void RunRnnGrad(RnnCell cell, bool reset_after, DType dtype, MaskDType mask_dtype, int64_t batch,
                int64_t time, int64_t features, int64_t units, bool go_backwards,
                bool return_sequences, bool has_bias, std::mt19937* rng) {
  MaskedRnnConfig config = MakeConfig(cell, reset_after, batch, time, features, units,
                                      go_backwards, return_sequences);
  config.has_bias = has_bias;
  const bool lstm = cell == RnnCell::kLstm;
  const int64_t n = GateCount(cell) * units;
  const size_t e = ElementBytes(dtype);
  MaskedRnnGpuGradArgs args;
  MaskedRnnGpuArgs& fwd = args.forward;
  fwd.dtype = dtype;
  fwd.mask_dtype = mask_dtype;
  fwd.x = DeviceRandom(batch * time * features, dtype, rng);
  fwd.mask = DeviceMask(batch, time, mask_dtype, rng);
  fwd.kernel = DeviceRandom(features * n, dtype, rng);
  fwd.recurrent_kernel = DeviceRandom(units * n, dtype, rng);
  fwd.bias = has_bias ? DeviceRandom(BiasSize(config), dtype, rng) : nullptr;
  fwd.initial_h = DeviceRandom(batch * units, dtype, rng);
  fwd.initial_c = lstm ? DeviceRandom(batch * units, dtype, rng) : nullptr;
  args.d_output = DeviceRandom(return_sequences ? batch * time * units : batch * units, dtype, rng);
  args.d_final_h = DeviceRandom(batch * units, dtype, rng);
  args.d_final_c = lstm ? DeviceRandom(batch * units, dtype, rng) : nullptr;
  auto alloc = [&](int64_t count) {
    void* p = nullptr;
    if (count > 0) Check(cudaMalloc(&p, count * e), "cudaMalloc");
    return p;
  };
  args.d_x = alloc(batch * time * features);
  args.d_kernel = alloc(features * n);
  args.d_recurrent_kernel = alloc(units * n);
  args.d_bias = has_bias ? alloc(BiasSize(config)) : nullptr;
  args.d_initial_h = alloc(batch * units);
  args.d_initial_c = lstm ? alloc(batch * units) : nullptr;
  const size_t ws = MaskedRnnGpuGradWorkspaceBytes(config, dtype);
  void* workspace = nullptr;
  if (ws) Check(cudaMalloc(&workspace, ws), "cudaMalloc");
  char what[160];
  std::snprintf(what, sizeof(what),
                "grad cell=%d ra=%d dtype=%d mask=%d B=%lld T=%lld F=%lld U=%lld",
                static_cast<int>(cell), reset_after, static_cast<int>(dtype),
                static_cast<int>(mask_dtype), static_cast<long long>(batch),
                static_cast<long long>(time), static_cast<long long>(features),
                static_cast<long long>(units));
  // The launcher's choice (the unit-slice kernels where they fit), the split-K
  // persistent kernels, one launch per product and step; or the first alone.
  struct Path { const char* name; const char* per_step; const char* persistent; };
  const Path paths[] = {{"auto", "0", "0"}, {"persistent", "0", "1"}, {"per_step", "1", "0"}};
  for (const Path& path : paths) {
    if (grad_auto_only && &path != paths) break;
    setenv("TFTRT_MASKING_RNN_GRAD_PER_STEP", path.per_step, 1);
    setenv("TFTRT_MASKING_RNN_GRAD_PERSISTENT", path.persistent, 1);
    const auto start = std::chrono::steady_clock::now();
    Check(LaunchMaskedRnnGrad(config, args, workspace, ws, nullptr), what);
    Check(cudaDeviceSynchronize(), what);
    std::fprintf(stderr, "%.1f s: %s path=%s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                 what, path.name);
  }
  for (const void* p : {fwd.x, fwd.mask, fwd.kernel, fwd.recurrent_kernel, fwd.bias,
                        fwd.initial_h, fwd.initial_c, args.d_output, args.d_final_h,
                        args.d_final_c}) {
    cudaFree(const_cast<void*>(p));
  }
  for (void* p : {args.d_x, args.d_kernel, args.d_recurrent_kernel, args.d_bias,
                  args.d_initial_h, args.d_initial_c, workspace}) {
    cudaFree(p);
  }
}

// Every cell and dtype; products with and without split K (U = 128: the
// backward step's K = 4U = 512; B * T = 520: the weight gradients' K, and
// 64-row tiles), B = 1, T = 1, T = 0, no bias.
// only: cell names to run ("lstm", "gru", "gru_reset_before", "simple_rnn"), or none = all;
// racecheck runs ~1 s per call, so a device call can split the cells between runs.
int RunGradCases(std::mt19937* rng, const std::vector<std::string>& only) {
  struct CellCase { RnnCell cell; bool reset_after; const char* name; };
  const CellCase cells[] = {{RnnCell::kLstm, true, "lstm"}, {RnnCell::kGru, true, "gru"},
                            {RnnCell::kGru, false, "gru_reset_before"},
                            {RnnCell::kSimpleRnn, true, "simple_rnn"}};
  int index = 0;
  for (const CellCase& c : cells) {
    if (!only.empty() && std::find(only.begin(), only.end(), c.name) == only.end()) {
      index += 4;  // the same mask dtypes and options per cell as a full run
      continue;
    }
    for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kFloat64}) {
      const MaskDType mask_dtype = index % 2 ? MaskDType::kInt32 : MaskDType::kBool;
      RunRnnGrad(c.cell, c.reset_after, dtype, mask_dtype, 3, 4, 5, 6, index % 3 == 0, true,
                 true, rng);
      RunRnnGrad(c.cell, c.reset_after, dtype, mask_dtype, 3, 3, 4, 128, index % 2 == 0, false,
                 index % 2 == 1, rng);
      RunRnnGrad(c.cell, c.reset_after, dtype, mask_dtype, 130, 4, 3, 20, true, true, true, rng);
      RunRnnGrad(c.cell, c.reset_after, dtype, mask_dtype, 1, 1, 2, 3, false, false, true, rng);
      RunRnnGrad(c.cell, c.reset_after, dtype, mask_dtype, 2, 0, 2, 3, false, index % 2, true,
                 rng);
      ++index;
    }
  }
  std::printf("sanitize driver (grad): %d failures\n", failures);
  return failures ? 1 : 0;
}

// Products over all pairs big enough for the tensor-core tiles (>= 2^20
// multiply-adds): 64 x 64 tiles with ragged edges and split K (B 17, T 20, F 33,
// U 130), the float16/bfloat16 fast recompute on the 16-bit forward (U 256),
// 128 x 128 tiles (LSTM U 512, B * T = 1024: d_recurrent_kernel 2^30).
int RunGradProductCases(std::mt19937* rng) {
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    RunRnnGrad(RnnCell::kLstm, true, dtype, MaskDType::kBool, 17, 20, 33, 130, false, true, true,
               rng);
    RunRnnGrad(RnnCell::kGru, true, dtype, MaskDType::kInt32, 8, 30, 40, 256, true, false, true,
               rng);
  }
  for (DType dtype : {DType::kFloat32, DType::kFloat16}) {
    RunRnnGrad(RnnCell::kLstm, true, dtype, MaskDType::kBool, 64, 16, 64, 512, false, true, true,
               rng);
  }
  std::printf("sanitize driver (grad products): %d failures\n", failures);
  return failures ? 1 : 0;
}

void RunMasking(DType dtype, int64_t rows, int64_t features, MaskDType mask_dtype,
                std::mt19937* rng) {
  void* x = DeviceRandom(rows * features, dtype, rng);
  // Every third row all zeros: masked under mask value 0 (rows rewritten in place).
  const size_t row_bytes = features * ElementBytes(dtype);
  if (rows * features) {
    Check(cudaMemset2D(x, 3 * row_bytes, 0, row_bytes, (rows + 2) / 3), "memset");
  }
  void *output = nullptr, *mask = nullptr;
  if (rows * features) Check(cudaMalloc(&output, rows * features * ElementBytes(dtype)), "m");
  if (rows) Check(cudaMalloc(&mask, rows * (mask_dtype == MaskDType::kInt32 ? 4 : 1)), "m");
  Check(LaunchMasking(dtype, x, rows, features, 0.0f, MaskedOutputMode::kWhere, output,
                      mask_dtype, mask, nullptr), "masking");
  Check(LaunchMasking(dtype, x, rows, features, -1.0f, MaskedOutputMode::kMultiply, output,
                      mask_dtype, mask, nullptr), "masking");
  Check(cudaDeviceSynchronize(), "masking sync");
  for (void* p : {x, output, mask}) cudaFree(p);
}

}  // namespace

int main(int argc, char** argv) {
  std::mt19937 rng(3);
  if (argc > 1 && std::strcmp(argv[1], "grad") == 0) {
    std::vector<std::string> cells;
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--auto-only") == 0) {
        grad_auto_only = true;
      } else if (std::strcmp(argv[i], "--products") == 0) {
        grad_products = true;
      } else {
        cells.push_back(argv[i]);
      }
    }
    return grad_products ? RunGradProductCases(&rng) : RunGradCases(&rng, cells);
  }
  if (argc > 1 && std::strcmp(argv[1], "block") == 0) return RunBlockCases(&rng);
  // `sanitize_driver rnn CELL...`: only those cells' forward calls (names as for grad), no
  // Masking: a racecheck of one family's new code within a short device call.
  std::vector<std::string> only_cells;
  const bool rnn_only = argc > 1 && std::strcmp(argv[1], "rnn") == 0;
  for (int i = 2; rnn_only && i < argc; ++i) only_cells.push_back(argv[i]);
  const DType dtypes[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kFloat64};
  for (DType dtype : dtypes) {
    if (rnn_only) break;
    for (MaskDType mask_dtype : {MaskDType::kBool, MaskDType::kInt32}) {
      for (int64_t features : {1, 3, 8, 64, 67}) RunMasking(dtype, 19, features, mask_dtype, &rng);
      RunMasking(dtype, 4099, 7, mask_dtype, &rng);  // many short rows, a partial tail
      // Rows of 1 and 8 16-byte vectors: the short-rows kernel, a partial last chunk.
      for (int64_t vectors : {1, 8}) {
        RunMasking(dtype, 4099, vectors * 16 / static_cast<int64_t>(ElementBytes(dtype)),
                   mask_dtype, &rng);
      }
      // Tile and short-rows kernels with 3 blocks, each looping over several
      // tiles (the buffer is refilled after the previous tile's stores) or
      // chunks: odd rows, rows of whole vectors, 16 lanes per row (fp32 F = 129).
      setenv("TFTRT_MASKING_MAX_GRID", "3", 1);
      for (int64_t features : {7, 24, 32, 129}) {
        RunMasking(dtype, 4099, features, mask_dtype, &rng);
      }
      unsetenv("TFTRT_MASKING_MAX_GRID");
      RunMasking(dtype, 0, 8, mask_dtype, &rng);
      RunMasking(dtype, 5, 0, mask_dtype, &rng);
    }
  }
  struct CellCase { RnnCell cell; bool reset_after; const char* name; };
  const CellCase cells[] = {{RnnCell::kLstm, true, "lstm"}, {RnnCell::kGru, true, "gru"},
                            {RnnCell::kGru, false, "gru_reset_before"},
                            {RnnCell::kSimpleRnn, true, "simple_rnn"}};
  int index = 0;
  for (const CellCase& c : cells) {
    if (!only_cells.empty() &&
        std::find(only_cells.begin(), only_cells.end(), c.name) == only_cells.end()) {
      index += 16;  // the same mask dtypes and options per cell as a full run
      continue;
    }
    for (DType dtype : dtypes) {
      for (int simple : {0, 1, 2, 3}) {
        const MaskDType mask_dtype = index % 2 ? MaskDType::kInt32 : MaskDType::kBool;
        // units 32: one block per batch slice; units 256: a barrier group.
        RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 3, 3, 5, 32, index % 3 == 0, true,
               simple, &rng);
        RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 2, 2, 3, 256, index % 3 == 1,
               index % 2 == 0, simple, &rng);
        RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 2, 3, 4, 6, false, true, simple, &rng);
        // Row-block kernel: 4 rows per block (B = 300 > 2 x 132 SMs), k past the
        // registers in shared memory (units 100, 128).
        if (simple == 0) {
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 300, 2, 3, 128, index % 2 == 0, true,
                 0, &rng);
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 5, 3, 3, 100, true, false, 0, &rng);
          // Input projection with K split over a cluster (F = 100: uneven slices;
          // B * T = 130: a partial 64-row tile).
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 2, 65, 100, 32, index % 2 == 1, true, 0,
                 &rng);
          // Tensor-core row-group kernel (LSTM/GRU), 16-block clusters (H100:
          // 7 at once): 32 rows per cluster (B = 200, partial last group), 24
          // (B = 130) and 16 (B = 60).
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 200, 2, 3, 512, true, true, 0, &rng);
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 130, 2, 3, 512, true, false, 0, &rng);
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 60, 2, 3, 512, false, true, 0, &rng);
          // Big projections on the pipelined tensor-core tile, partial row and K
          // tiles: fp16/bf16 (LSTM 136, GRU 102 tiles of 128 x 128, B * T = 4288,
          // F = 72) and, with units <= 32, fp32 as 3xTF32 (65 tiles, B * T = 8256).
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 64, 67, 72, 128, index % 2 == 0, true,
                 0, &rng);
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 64, 129, 72, 32, index % 2 == 1, true,
                 0, &rng);
          // The same with h sent as a st.async per packet instead of bulk copies.
          setenv("TFTRT_MASKING_RNN_ROWS_ST_ASYNC", "1", 1);
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 20, 2, 3, 512, true, false, 0, &rng);
          setenv("TFTRT_MASKING_RNN_ROWS_ST_ASYNC", "0", 1);
        }
        // units 512: a 16-block cluster on the tensor-core path, 3 rows per block.
        if (simple != 2) {
          RunRnn(c.cell, c.reset_after, dtype, mask_dtype, 24, 2, 4, 512, true, true, simple,
                 &rng);
        }
        ++index;
      }
    }
  }
  RunRnn(RnnCell::kLstm, true, DType::kFloat32, MaskDType::kBool, 3, 0, 4, 8, false, false,
         0, &rng);
  RunRnn(RnnCell::kLstm, true, DType::kFloat32, MaskDType::kBool, 0, 3, 4, 8, false, true,
         0, &rng);
  std::printf("sanitize driver: %d failures\n", failures);
  return failures ? 1 : 0;
}
