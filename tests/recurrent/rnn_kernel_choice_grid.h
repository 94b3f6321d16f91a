// The grid of the kernel-choice test (rnn_kernel_choice_test.cc): GPUs,
// shapes, option sets. Each line of rnn_kernel_choice_golden.txt:
// "<gpu> <options> <cell> <dtype> B=.. T=.. F=.. U=.. <act> : proj ... ; candidates".
// The golden was written by the planners and cascade of masked_rnn_gpu.cu as
// they were before kernel choice became ChooseRnnKernel (commit 081035a, the
// old functions compiled on the host with this grid), so the test shows the
// refactor chose exactly what the old code chose. One deliberate change since:
// a T4 (compute capability 7.5, no TF32) keeps fp32 projections on FFMA
// (tf32x3=0 pipelined=0 in its lines); the old default build had no sm_75 code.
// Second (issue 19): below compute capability 9 the persistent family now runs
// in its global modes (the portable family: "persistent global_mma" for
// fp16/bf16, then "persistent global"), where the old code went per step; the
// H100/H200 lines did not change. Third (issue 19): GRU reset_after=false
// ("gru_rb" lines) gets the persistent family's global modes on every GPU.
// Fourth (issue 19, session 13): 33-128 units (fp16/bf16/fp32, every cell)
// get the tensor-core block family ("mma_block") from compute capability 8.0,
// after the row-group and row-block kernels and before the persistent family
// (fp32 needs 136-156 KB of shared memory: not on an A10 / L4).
#ifndef TFTRT_MASKING_TESTS_RECURRENT_RNN_KERNEL_CHOICE_GRID_H_
#define TFTRT_MASKING_TESTS_RECURRENT_RNN_KERNEL_CHOICE_GRID_H_

#include <cstdio>
#include <string>
#include <vector>

// Properties as cudaGetDeviceProperties reports them (sharedMemPerBlockOptin,
// sharedMemPerMultiprocessor); Orin: Jetson AGX Orin 64 GB.
struct GridGpu {
  const char* name;
  int major, minor, sms;
  size_t optin, per_sm;
};
inline std::vector<GridGpu> GridGpus() {
  return {
      {"H100", 9, 0, 132, 227 * 1024, 228 * 1024}, {"H200", 9, 0, 132, 227 * 1024, 228 * 1024},
      {"A100", 8, 0, 108, 163 * 1024, 164 * 1024}, {"A10", 8, 6, 72, 99 * 1024, 100 * 1024},
      {"L4", 8, 9, 58, 99 * 1024, 100 * 1024},     {"Orin", 8, 7, 16, 163 * 1024, 164 * 1024},
      {"T4", 7, 5, 40, 64 * 1024, 64 * 1024},
  };
}
struct GridShape {
  int cell;  // 0 LSTM, 1 GRU, 2 SimpleRNN
  bool reset_after;
  int dtype;  // DType value
  long batch, time, input, units;
  bool relu;  // activation relu instead of tanh
};
inline std::vector<GridShape> GridShapes() {
  std::vector<GridShape> shapes;
  const int kF32 = 0, kF16 = 1, kF64 = 3;
  for (int cell = 0; cell < 4; ++cell) {
    for (int dtype : {kF32, kF16}) {
      for (long units : {32, 64, 128, 256, 512, 1024}) {
        for (long batch : {1, 8, 64, 512, 4096}) {
          shapes.push_back({cell == 3 ? 2 : (cell == 0 ? 0 : 1), cell != 2, dtype, batch, 100,
                            64, units, false});
        }
      }
    }
  }
  for (long units : {48, 100, 130}) {  // odd sizes: padding, units % 16
    for (long batch : {8, 128}) shapes.push_back({0, true, kF16, batch, 100, 64, units, false});
  }
  for (long batch : {1, 64}) {
    shapes.push_back({0, true, kF64, batch, 100, 64, 128, false});
    shapes.push_back({0, true, kF32, batch, 100, 64, 128, true});  // relu
    shapes.push_back({0, true, kF16, batch, 100, 30, 32, false});  // F % 8 != 0
    shapes.push_back({0, true, 2, batch, 100, 64, 256, false});    // bfloat16
    shapes.push_back({0, true, kF32, batch, 0, 64, 128, false});   // T = 0
  }
  return shapes;
}
inline const char* GridCellName(const GridShape& s) {
  return s.cell == 0 ? "lstm" : (s.cell == 2 ? "simple_rnn" : (s.reset_after ? "gru" : "gru_rb"));
}
inline const char* GridDtypeName(int dtype) {
  static const char* names[] = {"f32", "f16", "bf16", "f64"};
  return names[dtype];
}
// Option sets: the name and which knobs (environment names) are on. Knob
// sets beyond "default" run on the H200 only.
struct GridOptions {
  const char* name;
  std::vector<const char*> env;
};
inline std::vector<GridOptions> GridOptionSets() {
  return {
      {"default", {}},
      {"simple", {"TFTRT_MASKING_RNN_SIMPLE"}},
      {"no_row_block", {"TFTRT_MASKING_RNN_NO_ROW_BLOCK"}},
      {"no_mma_rows", {"TFTRT_MASKING_RNN_NO_MMA_ROWS"}},
      {"no_cluster", {"TFTRT_MASKING_RNN_NO_CLUSTER"}},
      {"no_mma", {"TFTRT_MASKING_RNN_NO_MMA"}},
      {"no_mma_block", {"TFTRT_MASKING_RNN_NO_MMA_BLOCK"}},
      {"no_overlap", {"TFTRT_MASKING_RNN_NO_OVERLAP"}},
      {"no_pipelined_projection", {"TFTRT_MASKING_RNN_NO_PIPELINED_PROJECTION"}},
  };
}
inline std::string GridLinePrefix(const char* gpu, const char* options, const GridShape& s) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), "%s %s %s %s B=%ld T=%ld F=%ld U=%ld %s", gpu, options,
                GridCellName(s), GridDtypeName(s.dtype), s.batch, s.time, s.input, s.units,
                s.relu ? "relu" : "tanh");
  return buffer;
}

#endif  // TFTRT_MASKING_TESTS_RECURRENT_RNN_KERNEL_CHOICE_GRID_H_
