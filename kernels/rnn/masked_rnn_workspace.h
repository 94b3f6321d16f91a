// Where LaunchMaskedRnn's device workspace keeps what (byte offsets); the
// same for every family (Acc = double for float64, else float). Host code.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_WORKSPACE_H_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_WORKSPACE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/rnn_kernel_plans.h"

namespace tftrt_masking {
namespace rnn_gpu {

// The per-step path's recurrent product splits K = units in this many slices
// (one block column per slice; their partial sums in `step_partial`): enough
// blocks to fill a GPU at small batches; at most `time` slices, so that the
// partial sums never need more memory than the input projection [B, T, G*U].
inline int PerStepKSplits(const MaskedRnnConfig& config) {
  const int64_t by_units = std::max<int64_t>(1, (config.units + 127) / 128);
  return static_cast<int>(std::min<int64_t>({8, by_units, std::max<int64_t>(1, config.time)}));
}

struct WorkspaceLayout {
  size_t xproj = 0;     // [B, T, G*U] Acc: the input projection
  size_t h = 0;         // [2, B, U] Acc: h, double-buffered
  size_t c = 0;         // [B, U] Acc
  size_t y = 0;         // [B, U] Acc: the previous output
  size_t scratch = 0;   // [2, B, U] Acc: GRU reset_after=false r*h and z
  size_t counters = 0;  // kMaxBarrierCounters uint32: the persistent kernel's barriers
  size_t step_partial = 0;  // [PerStepKSplits][B, G*U] Acc: the per-step path's h @ U
  size_t total = 0;
};

inline WorkspaceLayout Layout(const MaskedRnnConfig& config, DType dtype) {
  constexpr size_t kAlign = 256;
  auto align_up = [](size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; };
  const size_t acc = dtype == DType::kFloat64 ? sizeof(double) : sizeof(float);
  const size_t b = static_cast<size_t>(std::max<int64_t>(config.batch, 0));
  const size_t t = static_cast<size_t>(std::max<int64_t>(config.time, 0));
  const size_t u = static_cast<size_t>(std::max<int64_t>(config.units, 0));
  const size_t n = static_cast<size_t>(GateCount(config.cell)) * u;
  WorkspaceLayout layout;
  size_t at = 0;
  layout.xproj = at;
  at += align_up(b * t * n * acc);
  layout.h = at;
  at += align_up(2 * b * u * acc);
  layout.c = at;
  at += align_up(b * u * acc);
  layout.y = at;
  at += align_up(b * u * acc);
  layout.scratch = at;
  at += align_up(2 * b * u * acc);
  layout.counters = at;
  at += align_up(kMaxBarrierCounters * sizeof(unsigned));
  layout.step_partial = at;
  at += align_up(static_cast<size_t>(PerStepKSplits(config)) * b * n * acc);
  layout.total = at;
  return layout;
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_WORKSPACE_H_
