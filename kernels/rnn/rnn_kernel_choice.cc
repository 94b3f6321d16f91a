// Kernel choice for the GPU recurrence (see the header): the families'
// planners and the order in which they are tried.
#include "kernels/rnn/rnn_kernel_choice.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tftrt_masking {
namespace {

bool EnvironmentFlag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}

bool DefaultActivations(const MaskedRnnConfig& config) {
  return config.activation == Activation::kTanh &&
         (config.cell == RnnCell::kSimpleRnn ||
          config.recurrent_activation == Activation::kSigmoid);
}

}  // namespace

RnnKernelOptions RnnKernelOptionsFromEnvironment() {
  RnnKernelOptions options;
  options.per_step_only = EnvironmentFlag("TFTRT_MASKING_RNN_SIMPLE");
  options.no_row_kernels = EnvironmentFlag("TFTRT_MASKING_RNN_NO_ROW_BLOCK");
  options.no_mma_row_group = EnvironmentFlag("TFTRT_MASKING_RNN_NO_MMA_ROWS");
  options.row_group_copy = EnvironmentFlag("TFTRT_MASKING_RNN_ROWS_ST_ASYNC")
                               ? rnn_gpu::RowGroupCopy::kStAsync
                               : (EnvironmentFlag("TFTRT_MASKING_RNN_ROWS_BULK")
                                      ? rnn_gpu::RowGroupCopy::kBulk
                                      : rnn_gpu::RowGroupCopy::kAuto);
  options.row_group_8_warps = EnvironmentFlag("TFTRT_MASKING_RNN_ROWS_8_WARPS");
  options.no_mma_block = EnvironmentFlag("TFTRT_MASKING_RNN_NO_MMA_BLOCK");
  options.mma_block_fp32 = EnvironmentFlag("TFTRT_MASKING_RNN_MMA_BLOCK_FP32");
  options.no_clusters = EnvironmentFlag("TFTRT_MASKING_RNN_NO_CLUSTER");
  options.no_persistent_mma = EnvironmentFlag("TFTRT_MASKING_RNN_NO_MMA");
  options.no_overlap = EnvironmentFlag("TFTRT_MASKING_RNN_NO_OVERLAP");
  options.no_pipelined_projection = EnvironmentFlag("TFTRT_MASKING_RNN_NO_PIPELINED_PROJECTION");
  options.portable_class = EnvironmentFlag("TFTRT_MASKING_RNN_PORTABLE");
  options.grad_per_step = EnvironmentFlag("TFTRT_MASKING_RNN_GRAD_PER_STEP");
  options.grad_persistent = EnvironmentFlag("TFTRT_MASKING_RNN_GRAD_PERSISTENT");
  options.grad_slice_recompute = EnvironmentFlag("TFTRT_MASKING_RNN_GRAD_SLICE_RECOMPUTE");
  options.grad_fast_recompute = EnvironmentFlag("TFTRT_MASKING_RNN_GRAD_FAST_RECOMPUTE");
  options.grad_recompute_only = EnvironmentFlag("TFTRT_MASKING_RNN_GRAD_RECOMPUTE_ONLY");
  // "units,chunk,k_splits,stages,pad,order,weight_bytes" (UnitSliceForce;
  // missing or 0: the planner's; pad and order -1 the planner's): sanitizer
  // runs of forced plans.
  const char* plan_names[2] = {"TFTRT_MASKING_RNN_GRAD_RECOMPUTE_PLAN",
                               "TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN"};
  for (int pass = 0; pass < 2; ++pass) {
    const char* value = std::getenv(plan_names[pass]);
    if (value == nullptr) continue;
    int v[7] = {0, 0, 0, 0, -1, -1, 0};
    std::sscanf(value, "%d,%d,%d,%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
    rnn_grad_gpu::UnitSliceForce& force = options.grad_slice_force[pass];
    force = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
  }
  return options;
}

GpuProps PortableClassProps(const GpuProps& props) {
  // An A100's limits (the largest of compute capability 8.x); the SM count
  // stays this GPU's, so plans spread over its SMs as on an A100-like part.
  constexpr size_t kA100SharedPerBlockOptin = 163 * 1024;
  constexpr size_t kA100SharedPerSm = 164 * 1024;
  GpuProps portable = props;
  if (portable.cc_major > 8 || (portable.cc_major == 8 && portable.cc_minor > 0)) {
    portable.cc_major = 8;
    portable.cc_minor = 0;
  }
  portable.shared_per_block_optin =
      std::min(portable.shared_per_block_optin, kA100SharedPerBlockOptin);
  portable.shared_per_sm = std::min(portable.shared_per_sm, kA100SharedPerSm);
  return portable;
}

const char* RnnFamilyName(RnnFamily family) {
  switch (family) {
    case RnnFamily::kMmaRowGroup:
      return "mma_row_group";
    case RnnFamily::kRowBlock:
      return "row_block";
    case RnnFamily::kMmaBlock:
      return "mma_block";
    case RnnFamily::kPersistent:
      return "persistent";
    case RnnFamily::kPerStep:
      return "per_step";
  }
  return "?";
}

namespace rnn_gpu {

// Whether the cell keeps |h| <= 1 (from a zero or small initial state): the
// tensor-core recurrences take fp32 h into the product as fp16 hi + lo parts,
// which must stay inside fp16's range; relu / linear recurrences (and GRU with
// a tanh gate, z in [-1, 1]) can grow past it and stay on fp32 FFMA.
bool HiddenStateBounded(const MaskedRnnConfig& config) {
  auto bounded = [](Activation a) {
    return a == Activation::kTanh || a == Activation::kSigmoid ||
           a == Activation::kHardSigmoid || a == Activation::kHardSigmoidKeras2;
  };
  const bool gate_in_unit_interval = config.recurrent_activation != Activation::kTanh;
  return bounded(config.activation) &&
         (config.cell == RnnCell::kSimpleRnn ||
          (bounded(config.recurrent_activation) &&
           (config.cell == RnnCell::kLstm || gate_in_unit_interval)));
}

bool PlanMmaRowGroupRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                        const RnnKernelOptions& options, MmaRowGroupPlan* plan) {
  if (options.no_row_kernels || options.no_mma_row_group) return false;
  if (props.cc_major < 9) return false;
  const bool split_fp32 = dtype == DType::kFloat32;  // weights in two fp16 parts: <= 8 k tiles
  if (dtype != DType::kFloat16 && dtype != DType::kBFloat16 && !split_fp32) return false;
  if (config.batch < 1 || config.batch > (int64_t{1} << 24)) return false;
  if (config.time < 1 || config.time > (int64_t{1} << 30)) return false;
  if (config.units <= 64 || config.units > (split_fp32 ? 128 : 512)) return false;
  if (split_fp32 && !HiddenStateBounded(config)) return false;  // h as fp16 hi + lo
  // SimpleRNN tanh up to 128 units stays on the row-block kernel (not timed
  // against this one).
  if (config.cell == RnnCell::kSimpleRnn && DefaultActivations(config) && config.units <= 128) {
    return false;
  }
  const int units = static_cast<int>(config.units);
  const int k_tiles = units <= 128 ? 8 : (units <= 256 ? 16 : 32);
  *plan = MmaRowGroupPlan();
  plan->k_tiles = k_tiles;
  plan->unit_warps = (units + kUnitsPerWarp - 1) / kUnitsPerWarp;  // <= 128 = 16 x 8
  plan->four_warp_blocks = !options.row_group_8_warps;
  plan->overlap_projection = !options.no_overlap;
  plan->copy = options.row_group_copy;
  // Any activation, SimpleRNN and GRU reset_after=False: the variants' kernels.
  plan->variant_kernels = config.cell == RnnCell::kSimpleRnn ||
                          (config.cell == RnnCell::kGru && !config.reset_after) ||
                          !DefaultActivations(config);
  return true;
}

bool PlanRowBlockRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                     const RnnKernelOptions& options, RowBlockPlan* plan) {
  if (options.no_row_kernels) return false;
  if (dtype == DType::kFloat64) return false;
  if (config.cell == RnnCell::kGru && !config.reset_after) return false;
  // Only the Keras default activations (tanh, sigmoid) are compiled in.
  if (!DefaultActivations(config)) return false;
  if (config.batch < 1 || config.time < 1 || config.time > (int64_t{1} << 30)) return false;
  if (config.units < 1 || config.units > 128) return false;
  const int num_sms = props.sm_count;
  const size_t shared_limit = props.shared_per_block_optin;
  // Overlap with the input projection (programmatic dependent launch) and
  // 2-block clusters: sm_90+.
  const bool clusters = props.clusters();
  const int units = static_cast<int>(config.units);
  if (units <= 32) {
    // Warp-row mode: one warp per row, rows spread over the SMs first.
    if (config.batch > int64_t{kWarpRowMaxWarps} * num_sms) return false;
    const int warps = static_cast<int>(
        std::min<int64_t>(kWarpRowMaxWarps, (config.batch + num_sms - 1) / num_sms));
    *plan = RowBlockPlan();
    plan->threads = 32 * warps;
    plan->lanes_per_unit = 0;
    plan->register_k = 32;
    plan->units_per_block = units;
    plan->cluster_size = 1;
    plan->rows_per_block = warps;
    plan->blocks = static_cast<int>((config.batch + warps - 1) / warps);
    // One block per SM (blocks <= SMs): more than half of a block's shared-memory
    // limit keeps a second one off any SM. Blocks started during the projection
    // (programmatic dependent launch) were packed onto the few SMs it left free
    // and shared their schedulers: B = 32 and 64 ran 0.134 -> 0.187 ms (T = 512).
    const size_t needed = warps * WarpRowSharedFloats(GateCount(config.cell)) * sizeof(float);
    plan->shared_bytes = std::max(needed, shared_limit / 2 + 1024);
    plan->overlap_projection = clusters && !options.no_overlap;
    return plan->shared_bytes <= shared_limit;
  }
  const int lanes_per_unit = config.cell == RnnCell::kSimpleRnn ? 1 : 4;
  const int cluster_size = (lanes_per_unit * units + kRowBlockMaxThreads - 1) / kRowBlockMaxThreads;
  if (cluster_size > 2 || (cluster_size > 1 && !clusters)) return false;
  const int units_per_block = (units + cluster_size - 1) / cluster_size;
  const int threads = (lanes_per_unit * units_per_block + 31) / 32 * 32;
  const int register_k = units <= 64 ? 64 : 128;
  // Past kRowBlockMaxRows rows per block the sliced persistent kernel, which
  // shares each weight among many rows, does less work per row.
  const int groups = num_sms / cluster_size;
  int rows = 1;
  while (rows < kRowBlockMaxRows && (config.batch + rows - 1) / rows > groups) rows *= 2;
  if ((config.batch + rows - 1) / rows > groups) return false;
  const size_t shared = RowBlockSharedFloats(threads, register_k, rows) * sizeof(float);
  if (shared > shared_limit) return false;
  plan->threads = threads;
  plan->lanes_per_unit = lanes_per_unit;
  plan->register_k = register_k;
  plan->units_per_block = units_per_block;
  plan->cluster_size = cluster_size;
  plan->rows_per_block = rows;
  plan->blocks = static_cast<int>((config.batch + rows - 1) / rows) * cluster_size;
  plan->shared_bytes = shared;
  plan->overlap_projection = clusters && !options.no_overlap;
  return true;
}

bool PlanMmaBlockRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                     const RnnKernelOptions& options, MmaBlockPlan* plan) {
  if (options.no_row_kernels || options.no_mma_block) return false;
  if (props.cc_major < 8) return false;  // m16n8k16, bf16 MMAs
  const bool split_weights = dtype == DType::kFloat32;
  if (dtype != DType::kFloat16 && dtype != DType::kBFloat16 && !split_weights) return false;
  // float32 only on request: its split product (3 MMAs into 2 accumulator
  // chains per tile) doubled the error of a chaotic fp32 U = 128 LSTM (TensorRT
  // plugin harness rnn22, H200 portable path, 2026-12-02: 3.0e-4 against its
  // 2e-4 bound; the global FFMA mode 1.4e-4, Hopper's row groups 1.2e-4).
  if (split_weights && !options.mma_block_fp32) return false;
  if (split_weights && !HiddenStateBounded(config)) return false;
  if (config.units <= 32 || config.units > 128) return false;
  if (config.batch < 1 || config.time < 1 || config.time > (int64_t{1} << 30)) return false;
  const int64_t blocks = (config.batch + 7) / 8;
  if (blocks > int64_t{kMmaBlockMaxWaves} * props.sm_count) return false;
  const int k_tiles = config.units <= 64 ? 4 : 8;
  const bool reset_before = config.cell == RnnCell::kGru && !config.reset_after;
  const size_t shared = MmaBlockSharedBytes(k_tiles, split_weights ? 4 : 2, reset_before);
  if (shared > props.shared_per_block_optin) return false;
  *plan = MmaBlockPlan();
  plan->k_tiles = k_tiles;
  plan->threads = MmaBlockThreads(k_tiles);
  plan->blocks = static_cast<int>(blocks);
  plan->shared_bytes = shared;
  plan->overlap_projection = props.clusters() && !options.no_overlap && blocks == 1;
  return true;
}

namespace {

// cluster: a barrier group of at most kMaxMmaClusterBlocks blocks with h in
// DSMEM (sm_90+); else h through L2 and the global barrier (every arch).
bool PlanPersistentMma(const MaskedRnnConfig& config, int num_sms, size_t shared_limit,
                       size_t weight_budget, int max_batch_slices, bool cluster,
                       PersistentPlan* plan) {
  const int units = static_cast<int>(config.units);
  const int batch = static_cast<int>(config.batch);
  const int gates = GateCount(config.cell);
  if (units % 16 != 0) return false;
  for (int uper = std::min(units, 32); uper >= 1; uper /= 2) {
    if (units % uper != 0) continue;
    const int columns = gates * uper;
    if (columns % 16 != 0) continue;
    const int unit_slices = units / uper;
    if (unit_slices > (cluster ? kMaxMmaClusterBlocks : num_sms)) break;
    if (static_cast<size_t>(units) * columns * 2 > weight_budget) continue;
    int batch_slices = std::max(1, std::min({num_sms / unit_slices, batch, max_batch_slices}));
    const int batch_per_block = (batch + batch_slices - 1) / batch_slices;
    batch_slices = (batch + batch_per_block - 1) / batch_per_block;
    const int row_groups = (batch_per_block + 15) / 16;
    const int column_groups = columns / 16;
    int k_splits = 1;
    while (k_splits * 2 * column_groups * row_groups <= kPersistentWarps &&
           k_splits * 4 <= units / 16) {
      k_splits *= 2;
    }
    const SharedLayout layout = MakeSharedLayout(cluster ? kModeClusterMma : kModeGlobalMma, units,
                                                 gates, uper, batch_per_block, 16, row_groups,
                                                 k_splits, 0);
    if (layout.total > shared_limit) continue;
    plan->mma = true;
    plan->cluster = cluster;
    plan->units_per_block = uper;
    plan->unit_slices = unit_slices;
    plan->batch_per_block = batch_per_block;
    plan->batch_slices = batch_slices;
    plan->rows_per_thread = 16;
    plan->k_splits = k_splits;
    plan->column_groups = column_groups;
    plan->row_groups = row_groups;
    plan->weight_pitch = 0;
    plan->shared_bytes = layout.total;
    return true;
  }
  return false;
}

}  // namespace

bool PlanPersistentRnn(const MaskedRnnConfig& config, DType dtype, const GpuProps& props,
                       const RnnKernelOptions& options, bool allow_mma, int max_batch_slices,
                       PersistentPlan* plan) {
  if (dtype == DType::kFloat64) return false;
  if (config.batch < 1 || config.time < 1 || config.units % 4 != 0) return false;
  if (config.batch > (1 << 30) || config.time > (1 << 30) || config.units > (1 << 16)) return false;
  // The h buffer and xproj are indexed with int64; the block's own counters with int.
  const int num_sms = props.sm_count;
  const size_t shared_limit = props.shared_per_block_optin;
  const int units = static_cast<int>(config.units);
  const int batch = static_cast<int>(config.batch);
  const int gates = GateCount(config.cell);
  // Weights get most of shared memory; the rest holds partial sums and state.
  const size_t weight_budget = std::min<size_t>(shared_limit * 2 / 3, 150 * 1024);
  const bool sixteen_bit = dtype == DType::kFloat16 || dtype == DType::kBFloat16;
  // Clusters where the GPU has them; the portable family (compute capability
  // < 9) runs the global modes, and so does GRU reset_after=false everywhere
  // (its two phases per step are built for the global barrier only).
  const bool reset_before = config.cell == RnnCell::kGru && !config.reset_after;
  const bool clusters = props.clusters() && !options.no_clusters && !reset_before;
  *plan = PersistentPlan();
  if (sixteen_bit && allow_mma && !options.no_persistent_mma &&
      (clusters || !props.clusters() || reset_before) &&
      PlanPersistentMma(config, num_sms, shared_limit, weight_budget, max_batch_slices, clusters,
                        plan)) {
    return true;
  }
  for (int uper = std::min(units, 32); uper >= 1; uper /= 2) {
    if (units % uper != 0) continue;
    const int columns = gates * uper;
    if (columns % 4 != 0) continue;
    const int unit_slices = units / uper;
    if (unit_slices > num_sms) break;  // smaller slices only need more blocks
    const int pitch = columns + 4;  // staggers banks across k rows
    if (static_cast<size_t>(units) * pitch * sizeof(float) > weight_budget) continue;
    int batch_slices = std::max(1, std::min({num_sms / unit_slices, batch, max_batch_slices}));
    const int batch_per_block = (batch + batch_slices - 1) / batch_slices;
    batch_slices = (batch + batch_per_block - 1) / batch_per_block;
    int rb = 1;
    while (rb < 8 && rb < batch_per_block) rb *= 2;
    const int column_groups = columns / 4;
    const int row_groups = (batch_per_block + rb - 1) / rb;
    int k_splits = 1;
    while (k_splits * 2 * column_groups * row_groups <= kPersistentThreads &&
           k_splits * 4 <= units / 4) {
      k_splits *= 2;
    }
    // A barrier group of at most 8 blocks (the portable cluster size) runs as a
    // cluster with h in shared memory, when that fits.
    bool cluster = unit_slices <= kMaxClusterBlocks && clusters;
    size_t shared = MakeSharedLayout(cluster ? kModeCluster : kModeGlobal, units, gates, uper,
                                     batch_per_block, rb, row_groups, k_splits, pitch).total;
    if (cluster && shared > shared_limit) {
      cluster = false;
      shared = MakeSharedLayout(kModeGlobal, units, gates, uper, batch_per_block, rb, row_groups,
                                k_splits, pitch).total;
    }
    if (shared > shared_limit) continue;
    plan->cluster = cluster;
    plan->units_per_block = uper;
    plan->unit_slices = unit_slices;
    plan->batch_per_block = batch_per_block;
    plan->batch_slices = batch_slices;
    plan->rows_per_thread = rb;
    plan->k_splits = k_splits;
    plan->column_groups = column_groups;
    plan->row_groups = row_groups;
    plan->weight_pitch = pitch;
    plan->shared_bytes = shared;
    return true;
  }
  return false;
}

}  // namespace rnn_gpu

RnnKernelChoice ChooseRnnKernel(const MaskedRnnConfig& config, DType dtype,
                                const GpuProps& device_props, const RnnKernelOptions& options,
                                const RnnArgsAlignment& alignment) {
  const GpuProps props =
      options.portable_class ? PortableClassProps(device_props) : device_props;
  RnnKernelChoice choice;

  // Projection. fp32: 3xTF32 (rel. error ~1e-6 where FFMA gives ~3e-7) only
  // where the projection is a large share of the call: units <= 32, whose
  // recurrence runs ~0.2 us/step (B = 32, T = 512, F = 256: 0.159 -> 0.149 ms).
  // Wider recurrences keep FFMA: a chaotic U = 128 case (TensorRT plugin
  // harness, rnn22) grew the difference past its fp32 bound (2.7e-4 vs 2e-4).
  const int64_t n = GateCount(config.cell) * config.units;
  const bool sixteen_bit = dtype == DType::kFloat16 || dtype == DType::kBFloat16;
  choice.projection.k_split_clusters = props.clusters() && !options.no_clusters;
  // TF32 tensor cores: compute capability 8.0+ (Turing has none).
  choice.projection.fp32_as_tf32x3 =
      dtype == DType::kFloat32 && config.units <= 32 && props.cc_major >= 8;
  // Big products on the pipelined tensor-core tile where the rows are whole
  // 16-byte pieces; fp32 only with 3xTF32, float64 never.
  choice.projection.pipelined = (sixteen_bit || choice.projection.fp32_as_tf32x3) &&
                                config.input_size % 8 == 0 && n % 8 == 0 &&
                                alignment.x_kernel_16_bytes && !options.no_pipelined_projection;

  auto add = [&choice](const RnnKernelCandidate& candidate) {
    choice.candidates[choice.candidate_count++] = candidate;
  };
  if (config.time > 0 && !options.per_step_only && dtype != DType::kFloat64) {
    // 65-512 units (fp32: 65-128), any cell and activation: the recurrent
    // kernel as tensor-core fragments on a cluster per group of rows.
    RnnKernelCandidate candidate;
    if (rnn_gpu::PlanMmaRowGroupRnn(config, dtype, props, options, &candidate.mma_row_group)) {
      candidate.family = RnnFamily::kMmaRowGroup;
      add(candidate);
    }
    // Small recurrences: the whole recurrent kernel on every SM, no barrier.
    candidate = RnnKernelCandidate();
    if (alignment.mask_4_bytes &&
        rnn_gpu::PlanRowBlockRnn(config, dtype, props, options, &candidate.row_block)) {
      candidate.family = RnnFamily::kRowBlock;
      add(candidate);
    }
    // 33-128 units (every cell, activation and GPU from compute capability
    // 8.0): the recurrent kernel as tensor-core fragments on one block per 8
    // rows, no barrier between blocks. Without clusters it replaces the
    // persistent global modes (~3.7-4 us per step at H = 128); on Hopper it
    // takes what the row-group and row-block kernels do not (activations,
    // SimpleRNN, GRU reset_after=false).
    candidate = RnnKernelCandidate();
    if (rnn_gpu::PlanMmaBlockRnn(config, dtype, props, options, &candidate.mma_block)) {
      candidate.family = RnnFamily::kMmaBlock;
      add(candidate);
    }
    // Weights in shared memory over a cluster (sm_90+) or a cooperative grid
    // (every arch: the portable family). Tensor-core plan first (fp16/bf16), then FFMA;
    // in the global modes FFMA first below 256 units or 16384 batch x units: there the
    // step is latency-bound and the mma mode's hi + lo h tile copy costs more than its
    // products save (portable path on the H200, 2026-12-02: fp16 H = 128 0.37-0.41 ms
    // FFMA vs 0.41-0.43 mma; H = 512 B = 32 0.74 vs 0.57, B = 128 1.91 vs 1.19).
    const bool global_modes = !props.clusters() || options.no_clusters ||
                              (config.cell == RnnCell::kGru && !config.reset_after);
    const bool mma_first =
        !global_modes || (config.units >= 256 && config.batch * config.units >= 16384);
    if (mma_first) {
      for (const bool allow_mma : {true, false}) {
        candidate = RnnKernelCandidate();
        if (!rnn_gpu::PlanPersistentRnn(config, dtype, props, options, allow_mma,
                                        rnn_gpu::kMaxBarrierCounters, &candidate.persistent)) {
          break;
        }
        candidate.family = RnnFamily::kPersistent;
        candidate.persistent_allow_mma = allow_mma;
        add(candidate);
        if (!candidate.persistent.mma) break;  // the FFMA plan: nothing else to try
      }
    } else {
      for (const bool allow_mma : {false, true}) {
        candidate = RnnKernelCandidate();
        if (rnn_gpu::PlanPersistentRnn(config, dtype, props, options, allow_mma,
                                       rnn_gpu::kMaxBarrierCounters, &candidate.persistent) &&
            candidate.persistent.mma == allow_mma) {
          candidate.family = RnnFamily::kPersistent;
          candidate.persistent_allow_mma = allow_mma;
          add(candidate);
        }
      }
    }
  }
  add(RnnKernelCandidate());  // per step: every shape
  return choice;
}

std::string DescribeRnnKernelChoice(const RnnKernelChoice& choice) {
  std::ostringstream out;
  for (int i = 0; i < choice.candidate_count; ++i) {
    const RnnKernelCandidate& c = choice.candidates[i];
    if (i > 0) out << " | ";
    out << RnnFamilyName(c.family);
    switch (c.family) {
      case RnnFamily::kMmaRowGroup:
        out << " unit_warps=" << c.mma_row_group.unit_warps
            << " k_tiles=" << c.mma_row_group.k_tiles
            << (c.mma_row_group.variant_kernels ? " variant" : "");
        break;
      case RnnFamily::kRowBlock: {
        const rnn_gpu::RowBlockPlan& p = c.row_block;
        out << " threads=" << p.threads << " lanes=" << p.lanes_per_unit
            << " k=" << p.register_k << " units/block=" << p.units_per_block
            << " cluster=" << p.cluster_size << " rows/block=" << p.rows_per_block
            << " blocks=" << p.blocks << " smem=" << p.shared_bytes
            << " overlap=" << p.overlap_projection;
        break;
      }
      case RnnFamily::kMmaBlock: {
        const rnn_gpu::MmaBlockPlan& p = c.mma_block;
        out << " k_tiles=" << p.k_tiles << " threads=" << p.threads << " blocks=" << p.blocks
            << " smem=" << p.shared_bytes << " overlap=" << p.overlap_projection;
        break;
      }
      case RnnFamily::kPersistent: {
        const rnn_gpu::PersistentPlan& p = c.persistent;
        out << (p.mma ? (p.cluster ? " mma" : " global_mma") : (p.cluster ? " cluster" : " global"))
            << " units/block=" << p.units_per_block << " unit_slices=" << p.unit_slices
            << " batch/block=" << p.batch_per_block << " batch_slices=" << p.batch_slices
            << " rb=" << p.rows_per_thread << " k_splits=" << p.k_splits
            << " smem=" << p.shared_bytes;
        break;
      }
      case RnnFamily::kPerStep:
        break;
    }
  }
  return out.str();
}

}  // namespace tftrt_masking
