// The unit-slice gradient kernels' planner (see rnn_grad_plans.h).
#include "kernels/rnn/rnn_grad_plans.h"

#include <algorithm>
#include <initializer_list>

namespace tftrt_masking {
namespace rnn_grad_gpu {
namespace {

// The model's machine (per SM, cycles), fitted to the H200 sweep of
// bench/grad_slice_sweep.py (bench/results/grad_h200.md, session 14: both
// passes, float32 at B 8-128 x H 256-512, float16 at H 512; over the 33 (shape,
// pass) pairs whose pick was measured, the pick is 2.4% slower than the
// fastest measured plan on average, 15.6% at worst): ~3 warp FFMA
// instructions issued a clock, 2 cycles per shared-memory wavefront, 64 bytes
// of L2 reads a clock and ~32 per SM for the whole chip, ~200 cycles from a
// cp.async to its data, ~320 per staged chunk (its wait and its block
// barrier), ~40 per block of a batch slice at its step barrier, plus ~3000 for
// any step barrier among blocks.
constexpr double kFfmaPerClock = 3.0;
constexpr double kWavefrontCycles = 2.0;
constexpr double kL2BytesPerClock = 64.0;
constexpr double kL2ChipBytesPerClockPerSm = 32.0;
constexpr double kL2Latency = 200.0;
constexpr double kChunkOverhead = 320.0;
constexpr double kBarrierPerBlock = 40.0;
// A step barrier among more than one block (L2 atomics and polling) costs ~1.5 us
// more than none: fitted to the 128-unit sweep (session 14, sweep128_device_run.sh),
// where the backward's product is short and a single 128-unit slice per block
// (no barrier) was 10-36% faster than 8 slices of 16 units; over all 48 measured
// (shape, pass) pairs the pick went from +5.0% (worst +35.7%) to +2.9% (+19.2%)
// of the fastest plan measured (bench/grad_slice_sweep_check.py), and no pick at
// 256-512 units changed.
constexpr double kBarrierLatency = 3000.0;

// Shared-memory wavefronts of one warp-wide load of `width` bytes (4, 8 or 16)
// per lane (byte offsets, width-aligned): the most distinct addresses that
// fall on one group of width / 4 banks (equal addresses are one broadcast).
int Wavefronts(const int* offsets, int count, int width) {
  int per_group[32] = {0};
  const int groups = 128 / width;
  int most = 1;
  for (int t = 0; t < count; ++t) {
    bool seen = false;
    for (int e = 0; e < t && !seen; ++e) seen = offsets[e] == offsets[t];
    if (!seen) most = std::max(most, ++per_group[(offsets[t] / width) % groups]);
  }
  return most;
}

struct WarpLoads {
  int weight, input;  // wavefronts of one weight float4 load and of one input float4 load
};

// Warp 0's first weight load and first input load, at its tasks' first k.
WarpLoads WarpWavefronts(const UnitSlicePassPlan& plan, int columns) {
  const int rb = plan.rows_per_thread, ks = plan.k_splits;
  const int column_groups = columns / 4;
  const int tasks = plan.row_groups * column_groups * ks;
  // Warp 0's first weight load and first input load, at its tasks' first k.
  const int pitch = columns + plan.weight_pad, stage_pitch = plan.chunk + 4;
  int weight_at[32], input_at[32];
  const int lanes = std::min(32, tasks);
  for (int task = 0; task < lanes; ++task) {
    int cg, k, rg;
    if (plan.order == SliceTaskOrder::kRowsFastest) {
      rg = task % plan.row_groups;
      cg = (task / plan.row_groups) % column_groups;
      k = task / plan.row_groups / column_groups;
    } else {
      cg = task % column_groups;
      k = (task / column_groups) % ks;
      rg = task / column_groups / ks;
    }
    weight_at[task] = (4 * k * pitch + 4 * cg) * plan.weight_bytes;
    input_at[task] = (rg * rb * stage_pitch + 4 * k) * 4;
  }
  return {Wavefronts(weight_at, lanes, 4 * plan.weight_bytes), Wavefronts(input_at, lanes, 16)};
}

// Estimated cycles of one step of one block of `plan` (its fields but cost and
// shared_bytes set) for a product of `depth`.
double StepCycles(const UnitSlicePassPlan& plan, const WarpLoads& loads, int depth, int columns,
                  int sm_count) {
  const int rb = plan.rows_per_thread, ks = plan.k_splits;
  const int tasks = plan.row_groups * (columns / 4) * ks;
  const int warps = (tasks + 31) / 32;
  const double k4 = (depth / 4 + ks - 1) / ks;  // float4 steps of a task per step
  // 16-bit weights: 16 conversions per k step of a task.
  const double ffma = warps * k4 * (16.0 * rb + (plan.weight_bytes == 2 ? 16.0 : 0.0)) /
                      kFfmaPerClock;
  const double shared =
      warps * k4 * (4.0 * loads.weight + rb * loads.input) * kWavefrontCycles;
  const double compute = std::max(ffma, shared);
  const int chunks = (depth + plan.chunk - 1) / plan.chunk;
  const double bytes = 4.0 * plan.row_groups * rb * depth;  // padded rows repeat real ones
  const double l2 = std::max(bytes / kL2BytesPerClock,
                             bytes * plan.blocks() / (kL2ChipBytesPerClockPerSm * sm_count));
  // A chunk's copy is issued stages - 1 chunks ahead; the first one of a step waits it all.
  const double per_chunk = std::max(compute, l2) / chunks;
  const double exposed = std::max(0.0, kL2Latency - (plan.stages - 1) * per_chunk);
  return std::max(compute, l2) + kL2Latency + (chunks - 1) * exposed + kChunkOverhead * chunks +
         kBarrierPerBlock * plan.unit_slices + (plan.unit_slices > 1 ? kBarrierLatency : 0.0);
}

}  // namespace

namespace {

bool PlanPassUncached(bool backward, int64_t batch, int64_t units, int gates, int sm_count,
                      size_t shared_optin, int model_bytes, const UnitSliceForce& force,
                      UnitSlicePassPlan* plan) {
  if (batch < 1 || units < 1 || sm_count < 1) return false;
  const int depth = SliceDepth(backward, units, gates);
  bool found = false;
  for (int uper = 4; uper <= 256; uper += 4) {
    if (force.units_per_block > 0 && uper != force.units_per_block) continue;
    const int64_t unit_slices = (units + uper - 1) / uper;
    if (unit_slices > sm_count) continue;
    if (uper > RoundUp4(units)) break;
    int64_t batch_slices = std::min<int64_t>(batch, std::max<int64_t>(1, sm_count / unit_slices));
    const int64_t per_block = (batch + batch_slices - 1) / batch_slices;
    batch_slices = (batch + per_block - 1) / per_block;
    if (per_block * uper > int64_t{kUnitSliceMaxPairs} * kUnitSliceThreads) continue;
    const int columns = SliceColumns(backward, uper, gates);
    // The weights alone grow with the slice: nothing wider fits either.
    if (static_cast<size_t>(depth) * columns * (model_bytes == 2 ? 2 : 4) > shared_optin) break;
    UnitSlicePassPlan p;
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
    const int tasks = p.row_groups * (columns / 4);  // one per thread, at most
    if (tasks > kUnitSliceThreads) continue;
    // Ties go to rows fastest and unpadded weights (the order the sweep measured them in).
    for (int order : {0, 1}) {
      if (force.order >= 0 && order != force.order) continue;
      p.order = static_cast<SliceTaskOrder>(order);
      // Staged depth: all of it, or 1024, 512, ..., 64.
      for (int i = 0; i < 6; ++i) {
        const int chunk = force.chunk > 0 ? force.chunk : (i == 0 ? depth : 2048 >> i);
        if ((force.chunk > 0 && (i > 0 || chunk % 4 != 0 || chunk > depth)) ||
            (force.chunk <= 0 && i > 0 && chunk >= depth)) {
          continue;
        }
        // K splits: about one task per thread, each at least 2 float4 steps of a
        // chunk, at most 32 (each pair sums them).
        p.k_splits = force.k_splits > 0
                         ? force.k_splits
                         : std::max(1, std::min({kUnitSliceThreads / tasks, chunk / 8, 32}));
        if (tasks * p.k_splits > kUnitSliceThreads) continue;
        p.chunk = chunk;
        const int chunks = (depth + chunk - 1) / chunk;
        for (int wide = 0; wide < 4; ++wide) {
          const int pad = wide % 2 == 0 ? 0 : 4, bytes = wide < 2 ? 4 : 2;
          if ((force.weight_pad >= 0 && pad != force.weight_pad) ||
              (force.weight_bytes > 0 && bytes != force.weight_bytes) ||
              (bytes == 2 && model_bytes != 2)) {
            continue;
          }
          p.weight_pad = pad;
          p.weight_bytes = bytes;
          const WarpLoads loads = WarpWavefronts(p, columns);
          for (int stages = 2; stages <= kUnitSliceMaxStages; ++stages) {
            if (force.stages > 0 ? stages != force.stages : stages > std::max(2, chunks)) continue;
            p.stages = stages;
            const UnitSliceSmem s = UnitSliceSmemLayout(
                depth, columns, pad, bytes, chunk, std::min(stages, chunks), p.k_splits,
                p.row_groups * p.rows_per_thread, p.batch_per_block * uper);
            p.shared_bytes = static_cast<size_t>(s.total) * sizeof(float);
            if (p.shared_bytes > shared_optin) continue;
            p.cost = StepCycles(p, loads, depth, columns, sm_count);
            if (!found || p.cost < plan->cost) {
              *plan = p;
              found = true;
            }
          }
        }
      }
    }
  }
  return found;
}

struct PlanKey {
  bool backward;
  int64_t batch, units;
  int gates, sm_count;
  size_t shared_optin;
  int model_bytes;
  UnitSliceForce force;
  bool operator==(const PlanKey& o) const {
    return backward == o.backward && batch == o.batch && units == o.units && gates == o.gates &&
           sm_count == o.sm_count && shared_optin == o.shared_optin &&
           model_bytes == o.model_bytes && force.weight_bytes == o.force.weight_bytes &&
           force.units_per_block == o.force.units_per_block && force.chunk == o.force.chunk &&
           force.k_splits == o.force.k_splits && force.stages == o.force.stages &&
           force.weight_pad == o.force.weight_pad && force.order == o.force.order;
  }
};

}  // namespace

// The search takes ~0.1-0.5 ms on the host; a training loop asks for the same
// few shapes every step, so each thread keeps its last answers.
bool PlanUnitSlicePass(bool backward, int64_t batch, int64_t units, int gates, int sm_count,
                       size_t shared_optin, int model_bytes, const UnitSliceForce& force,
                       UnitSlicePassPlan* plan) {
  struct Entry {
    PlanKey key;
    bool found;
    UnitSlicePassPlan plan;
  };
  constexpr int kEntries = 8;
  thread_local Entry entries[kEntries];
  thread_local int used = 0, next = 0;
  const PlanKey key{backward, batch, units, gates, sm_count, shared_optin, model_bytes, force};
  for (int i = 0; i < used; ++i) {
    if (entries[i].key == key) {
      if (entries[i].found) *plan = entries[i].plan;
      return entries[i].found;
    }
  }
  Entry& e = entries[next];
  next = (next + 1) % kEntries;
  used = std::max(used, next == 0 ? kEntries : next);
  e.key = key;
  e.found = PlanPassUncached(backward, batch, units, gates, sm_count, shared_optin, model_bytes,
                             force, &e.plan);
  if (e.found) *plan = e.plan;
  return e.found;
}

bool PlanUnitSlices(int64_t batch, int64_t units, int gates, int sm_count, size_t shared_optin,
                    UnitSlicePlan* plan, const UnitSliceForce* force, int model_bytes) {
  const UnitSliceForce none;
  for (int pass = 0; pass < 2; ++pass) {
    if (!PlanUnitSlicePass(pass == 1, batch, units, gates, sm_count, shared_optin, model_bytes,
                           force ? force[pass] : none, &plan->pass[pass])) {
      return false;
    }
  }
  return true;
}

}  // namespace rnn_grad_gpu
}  // namespace tftrt_masking
