// The CUDA gradient's unit-slice kernels (masked_rnn_grad_gpu.cu): their plan
// and the sizes that the planner (host) and the kernels (device) share.
// CUDA-free, so that the plan is chosen and tested on the host
// (tests/recurrent/rnn_kernel_choice_test.cc) for the GPUs people run.
#ifndef TFTRT_MASKING_KERNELS_RNN_RNN_GRAD_PLANS_H_
#define TFTRT_MASKING_KERNELS_RNN_RNN_GRAD_PLANS_H_

#include <cstddef>
#include <cstdint>

#include "kernels/rnn/rnn_kernel_plans.h"  // TFTRT_MASKING_HOST_DEVICE

namespace tftrt_masking {
namespace rnn_grad_gpu {

constexpr int kUnitSliceThreads = 256;
constexpr int kUnitSliceMaxPairs = 2;  // (row, unit) pairs per thread: the plan keeps to it
constexpr int kUnitSliceMaxStages = 4;  // staged chunks of the product's input in the ring

// How product tasks (RB rows, 4 columns, one K split) map to threads. Rows
// fastest: a warp's weight loads are a few float4 of one k (broadcasts) and
// its input loads a few rows, so a k step costs a warp about RB + 4 shared
// wavefronts; columns fastest (the first kernel's order): 16 distinct weight
// float4 per load, twice the wavefronts. Either order gives every task the
// same sums in the same order: results are bit-equal.
enum class SliceTaskOrder : int { kRowsFastest = 0, kColumnsFastest = 1 };

// One pass's plan ([0] the recompute, [1] the backward: their products have
// different depth and columns, so each pass has its own slicing).
struct UnitSlicePassPlan {
  int units_per_block = 0;  // a multiple of 4; the last slice may hold fewer real units
  int unit_slices = 0;
  int batch_per_block = 0;
  int batch_slices = 0;
  int rows_per_thread = 1;  // RB: rows of one product task (template argument)
  int row_groups = 0;       // ceil(batch_per_block / RB)
  int k_splits = 1;         // product tasks = row_groups x columns / 4 x k_splits <= threads
  int chunk = 0;            // product depth staged in shared memory at a time (floats)
  int stages = 2;           // staged chunks in the ring (stages - 1 in flight while one is used)
  int weight_pad = 4;       // elements after each weight row (0 or 4: spreads k splits over banks)
  // Bytes of a weight in shared memory: 4 (fp32), or 2 for a float16/bfloat16
  // model, whose weights are exact in their own type (converted to fp32 in
  // registers: the same products, half the shared memory and its traffic).
  int weight_bytes = 4;
  SliceTaskOrder order = SliceTaskOrder::kRowsFastest;
  size_t shared_bytes = 0;
  double cost = 0.0;        // the planner's estimate, cycles per step (logs, tests)
  int blocks() const { return unit_slices * batch_slices; }
};

struct UnitSlicePlan {
  UnitSlicePassPlan pass[2];
};

// Bench / tests: fixes parts of one pass's plan (0, or kAuto for the enums:
// the planner's choice). A forced value that does not fit makes the plan fail.
struct UnitSliceForce {
  int units_per_block = 0;
  int chunk = 0;
  int k_splits = 0;
  int stages = 0;
  int weight_pad = -1;  // -1: the planner's
  int order = -1;       // -1: the planner's, else a SliceTaskOrder
  int weight_bytes = 0;  // 4, or 2 for a 16-bit model
};

TFTRT_MASKING_HOST_DEVICE inline int RoundUp4(int64_t v) { return static_cast<int>((v + 3) / 4 * 4); }

// Shared memory of one pass, in floats: weights [k_padded][columns + pad] of
// weight_bytes each (the padding spreads a warp's k splits over the banks; a
// row is a multiple of 4 elements, so the regions after it stay 16-byte
// aligned), the staged input
// [stages][padded_rows][chunk + 4] (a ring; the padding spreads rows over the
// banks), the split-K partial products [k_splits][padded_rows][columns],
// three per-pair state arrays, the recurrent bias of the columns.
struct UnitSliceSmem {
  int weights, stage, partial, state, rec_bias, total;
};
TFTRT_MASKING_HOST_DEVICE inline UnitSliceSmem UnitSliceSmemLayout(int k_padded, int columns,
                                                             int weight_pad, int weight_bytes,
                                                             int chunk, int stages, int k_splits,
                                                             int padded_rows, int pairs) {
  UnitSliceSmem s;
  s.weights = 0;
  s.stage = k_padded * (columns + weight_pad) * weight_bytes / 4;
  s.partial = s.stage + stages * padded_rows * (chunk + 4);
  s.state = s.partial + k_splits * padded_rows * columns;
  s.rec_bias = s.state + 3 * pairs;
  s.total = s.rec_bias + columns;
  return s;
}

// Product depth (padded to 4) and columns of a pass.
TFTRT_MASKING_HOST_DEVICE inline int SliceDepth(bool backward, int64_t units, int gates) {
  return RoundUp4(backward ? gates * units : units);
}
TFTRT_MASKING_HOST_DEVICE inline int SliceColumns(bool backward, int units_per_block, int gates) {
  return backward ? units_per_block : gates * units_per_block;
}

// One pass's plan, or false where none fits (every block resident at once, one
// per SM; at most kUnitSliceMaxPairs pairs and one product task per thread;
// shared memory within shared_optin). Picks the plan with the least estimated
// cycles per step (rnn_grad_plans.cc has the model). model_bytes: the model's
// element bytes (2: float16/bfloat16, whose weights may stay 16-bit).
bool PlanUnitSlicePass(bool backward, int64_t batch, int64_t units, int gates, int sm_count,
                       size_t shared_optin, int model_bytes, const UnitSliceForce& force,
                       UnitSlicePassPlan* plan);

// Both passes (false unless both fit). force: per pass, or nullptr.
bool PlanUnitSlices(int64_t batch, int64_t units, int gates, int sm_count, size_t shared_optin,
                    UnitSlicePlan* plan, const UnitSliceForce* force = nullptr,
                    int model_bytes = 4);

}  // namespace rnn_grad_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_RNN_GRAD_PLANS_H_
