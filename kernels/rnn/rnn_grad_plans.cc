// The unit-slice gradient kernels' planner (see rnn_grad_plans.h).
#include "kernels/rnn/rnn_grad_plans.h"

#include <algorithm>

namespace tftrt_masking {
namespace rnn_grad_gpu {

// The plan, or false where it does not fit (every block resident at once, one
// per SM; at most kUnitSliceMaxPairs pairs per thread). Picks the slice width with
// the least estimated per-step time of a block.
bool PlanUnitSlices(int64_t batch, int64_t units, int gates, int sm_count, size_t shared_optin,
                    UnitSlicePlan* plan) {
  if (batch < 1 || units < 1 || sm_count < 1) return false;
  bool found = false;
  double best = 0.0;
  for (int uper = 4; uper <= 256; uper += 4) {
    const int64_t unit_slices = (units + uper - 1) / uper;
    if (unit_slices > sm_count) continue;
    if (uper > RoundUp4(units)) break;
    int64_t batch_slices = std::min<int64_t>(batch, std::max<int64_t>(1, sm_count / unit_slices));
    const int64_t per_block = (batch + batch_slices - 1) / batch_slices;
    batch_slices = (batch + per_block - 1) / per_block;
    if (per_block * uper > int64_t{kUnitSliceMaxPairs} * kUnitSliceThreads) continue;
    UnitSlicePlan p;
    p.units_per_block = uper;
    p.unit_slices = static_cast<int>(unit_slices);
    p.batch_per_block = static_cast<int>(per_block);
    p.batch_slices = static_cast<int>(batch_slices);
    // Rows per task: the most that pads the rows by at most 1/8.
    for (int rb : {8, 4, 2, 1}) {
      const int64_t groups = (per_block + rb - 1) / rb;
      if (rb == 1 || (groups * rb - per_block) * 8 <= per_block) {
        p.rows_per_thread = rb;
        p.row_groups = static_cast<int>(groups);
        break;
      }
    }
    bool fits = true;
    for (int pass = 0; pass < 2 && fits; ++pass) {
      const int depth = SliceDepth(pass == 1, units, gates);
      const int columns = SliceColumns(pass == 1, uper, gates);
      const int tasks = p.row_groups * (columns / 4);  // one per thread, at most
      fits = tasks <= kUnitSliceThreads;
      // Staged depth: all of it, else the largest of 1024, 512, ..., 64 that fits.
      bool placed = false;
      for (int chunk = depth; fits && !placed;) {
        // K splits: about one task per thread, each at least 2 float4 steps of a
        // chunk, at most 32 (each pair sums them).
        p.k_splits[pass] =
            std::max(1, std::min({kUnitSliceThreads / std::max(1, tasks), chunk / 8, 32}));
        p.chunk[pass] = chunk;
        const UnitSliceSmem s = UnitSliceSmemLayout(depth, columns, chunk, p.k_splits[pass],
                                                    p.row_groups * p.rows_per_thread,
                                                    p.batch_per_block * uper);
        p.shared_bytes[pass] = static_cast<size_t>(s.total) * sizeof(float);
        placed = p.shared_bytes[pass] <= shared_optin;
        int next = 1024;
        while (next >= chunk) next /= 2;
        if (next < 64) break;
        chunk = next;
      }
      fits = fits && placed;
    }
    if (!fits) continue;
    // Cycles per step: multiply-adds at ~64 a clock (both passes), L2 reads at
    // ~16 floats a clock, ~100 per staged chunk (two block barriers).
    int chunks = 0;
    for (int pass = 0; pass < 2; ++pass) {
      chunks += (SliceDepth(pass == 1, units, gates) + p.chunk[pass] - 1) / p.chunk[pass];
    }
    const double cost = static_cast<double>(per_block) * units *
                            (static_cast<double>(gates) * uper / 32.0 + (gates + 1) / 16.0) +
                        100.0 * chunks;
    if (!found || cost < best) {
      *plan = p;
      best = cost;
      found = true;
    }
  }
  return found;
}

}  // namespace rnn_grad_gpu
}  // namespace tftrt_masking
