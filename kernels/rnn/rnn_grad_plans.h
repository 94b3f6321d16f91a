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

struct UnitSlicePlan {
  int units_per_block = 0;  // a multiple of 4; the last slice may hold fewer real units
  int unit_slices = 0;
  int batch_per_block = 0;
  int batch_slices = 0;
  int rows_per_thread = 1;  // RB: rows of one product task (template argument)
  int row_groups = 0;       // ceil(batch_per_block / RB)
  // Per pass, [0] recompute, [1] backward:
  int k_splits[2] = {1, 1};  // product tasks = row_groups x columns / 4 x k_splits <= threads
  int chunk[2] = {0, 0};     // product depth staged in shared memory at a time (floats)
  size_t shared_bytes[2] = {0, 0};
  int blocks() const { return unit_slices * batch_slices; }
};

TFTRT_MASKING_HOST_DEVICE inline int RoundUp4(int64_t v) { return static_cast<int>((v + 3) / 4 * 4); }

// Shared memory of one pass, in floats: weights [k_padded][columns + 4] (the
// padding spreads a warp's k splits over the banks), the staged input
// [2][padded_rows][chunk + 4] (double buffer; the padding spreads rows over
// the banks), the split-K partial products [k_splits][padded_rows][columns],
// three per-pair state arrays, the recurrent bias of the columns.
struct UnitSliceSmem {
  int weights, stage, partial, state, rec_bias, total;
};
TFTRT_MASKING_HOST_DEVICE inline UnitSliceSmem UnitSliceSmemLayout(int k_padded, int columns,
                                                             int chunk, int k_splits,
                                                             int padded_rows, int pairs) {
  UnitSliceSmem s;
  s.weights = 0;
  s.stage = k_padded * (columns + 4);
  s.partial = s.stage + 2 * padded_rows * (chunk + 4);
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

// The plan, or false where it does not fit (every block resident at once, one
// per SM; at most kUnitSliceMaxPairs pairs per thread). Picks the slice width with
// the least estimated per-step time of a block.
bool PlanUnitSlices(int64_t batch, int64_t units, int gates, int sm_count, size_t shared_optin,
                    UnitSlicePlan* plan);

}  // namespace rnn_grad_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_RNN_GRAD_PLANS_H_
