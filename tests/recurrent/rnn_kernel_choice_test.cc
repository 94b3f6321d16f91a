// Kernel choice of the GPU recurrence (kernels/rnn/rnn_kernel_choice.h) on the
// host, for the GPUs people run: which family and which plan each gets for a
// grid of shapes. The golden file holds what the code before ChooseRnnKernel
// chose, and the deliberate changes since (see rnn_kernel_choice_grid.h); the
// other tests check properties that hold on any GPU (no Hopper-only family or
// mode below compute capability 9, the per-step path last, the portable switch).
// A deliberate change rewrites the golden:
//   TFTRT_MASKING_WRITE_GOLDEN=$PWD/tests/recurrent/rnn_kernel_choice_golden.txt <test binary>
// and its diff is then reviewed like code.
#include "kernels/rnn/rnn_kernel_choice.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/rnn/rnn_grad_plans.h"
#include "tests/recurrent/rnn_kernel_choice_grid.h"

namespace tftrt_masking {
namespace {

GpuProps PropsOf(const GridGpu& gpu) {
  GpuProps props;
  props.cc_major = gpu.major;
  props.cc_minor = gpu.minor;
  props.sm_count = gpu.sms;
  props.shared_per_block_optin = gpu.optin;
  props.shared_per_sm = gpu.per_sm;
  return props;
}

MaskedRnnConfig ConfigOf(const GridShape& s) {
  MaskedRnnConfig config;
  config.cell = static_cast<RnnCell>(s.cell);
  config.reset_after = s.reset_after;
  config.batch = s.batch;
  config.time = s.time;
  config.input_size = s.input;
  config.units = s.units;
  if (s.relu) config.activation = Activation::kRelu;
  return config;
}

// The option set of the grid's name (the environment knob it stands for).
RnnKernelOptions OptionsNamed(const std::string& name) {
  RnnKernelOptions options;
  if (name == "simple") options.per_step_only = true;
  if (name == "no_row_block") options.no_row_kernels = true;
  if (name == "no_mma_rows") options.no_mma_row_group = true;
  if (name == "no_cluster") options.no_clusters = true;
  if (name == "no_mma") options.no_persistent_mma = true;
  if (name == "no_mma_block") options.no_mma_block = true;
  if (name == "no_overlap") options.no_overlap = true;
  if (name == "no_pipelined_projection") options.no_pipelined_projection = true;
  return options;
}

std::string Describe(const RnnKernelChoice& choice) {
  std::ostringstream out;
  out << "proj k_split=" << choice.projection.k_split_clusters
      << " tf32x3=" << choice.projection.fp32_as_tf32x3
      << " pipelined=" << choice.projection.pipelined << " ; " << DescribeRnnKernelChoice(choice);
  return out.str();
}

// Every line of the grid, as the golden file writes them.
std::vector<std::string> GridLines() {
  std::vector<std::string> lines;
  for (const GridOptions& set : GridOptionSets()) {
    for (const GridGpu& gpu : GridGpus()) {
      if (std::string(set.name) != "default" && std::string(gpu.name) != "H200") continue;
      for (const GridShape& shape : GridShapes()) {
        const RnnKernelChoice choice =
            ChooseRnnKernel(ConfigOf(shape), static_cast<DType>(shape.dtype), PropsOf(gpu),
                            OptionsNamed(set.name));
        lines.push_back(GridLinePrefix(gpu.name, set.name, shape) + " : " + Describe(choice));
      }
    }
  }
  return lines;
}

TEST(RnnKernelChoiceTest, SameChoicesAsTheGolden) {
  if (const char* path = std::getenv("TFTRT_MASKING_WRITE_GOLDEN")) {
    std::ofstream out(path);
    for (const std::string& line : GridLines()) out << line << "\n";
    ASSERT_TRUE(out.good()) << path;
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream file("tests/recurrent/rnn_kernel_choice_golden.txt");
  ASSERT_TRUE(file.good()) << "golden file missing from the runfiles";
  std::vector<std::string> want;
  for (std::string line; std::getline(file, line);) want.push_back(line);
  const std::vector<std::string> got = GridLines();
  ASSERT_EQ(got.size(), want.size());
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i] && ++mismatches <= 10) {
      ADD_FAILURE() << "line " << i + 1 << "\n  want " << want[i] << "\n  got  " << got[i];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// What each GPU gets, in words (printed for the record; the golden pins it).
TEST(RnnKernelChoiceTest, FamiliesPerGpu) {
  for (const GridGpu& gpu : GridGpus()) {
    std::map<std::string, int> first_family;
    for (const GridShape& shape : GridShapes()) {
      const RnnKernelChoice choice = ChooseRnnKernel(
          ConfigOf(shape), static_cast<DType>(shape.dtype), PropsOf(gpu), RnnKernelOptions());
      ++first_family[RnnFamilyName(choice.first().family)];
    }
    std::ostringstream line;
    for (const auto& entry : first_family) line << " " << entry.first << "=" << entry.second;
    std::printf("%-5s first candidate over %zu shapes:%s\n", gpu.name, GridShapes().size(),
                line.str().c_str());
  }
}

// Below compute capability 9: no clusters, no Hopper-only family; the
// persistent family only in its global modes (the portable family).
TEST(RnnKernelChoiceTest, NoHopperFamilyBelowComputeCapability9) {
  for (const GridGpu& gpu : GridGpus()) {
    if (gpu.major >= 9) continue;
    for (const GridShape& shape : GridShapes()) {
      const RnnKernelChoice choice = ChooseRnnKernel(
          ConfigOf(shape), static_cast<DType>(shape.dtype), PropsOf(gpu), RnnKernelOptions());
      const std::string where = GridLinePrefix(gpu.name, "default", shape);
      EXPECT_FALSE(choice.projection.k_split_clusters) << where;
      if (gpu.major < 8) {
        EXPECT_FALSE(choice.projection.fp32_as_tf32x3) << where;  // no TF32
      }
      for (int i = 0; i < choice.candidate_count; ++i) {
        const RnnKernelCandidate& c = choice.candidates[i];
        EXPECT_NE(c.family, RnnFamily::kMmaRowGroup) << where;
        if (c.family == RnnFamily::kPersistent) {
          EXPECT_FALSE(c.persistent.cluster) << where;
          EXPECT_LE(c.persistent.blocks(), gpu.sms) << where;  // one block per SM, co-resident
          EXPECT_LE(c.persistent.shared_bytes, gpu.optin) << where;
        }
        if (c.family == RnnFamily::kMmaBlock) {
          EXPECT_GE(gpu.major, 8) << where;  // m16n8k16 and bf16 MMAs
          EXPECT_FALSE(c.mma_block.overlap_projection) << where;
          EXPECT_LE(c.mma_block.shared_bytes, gpu.optin) << where;
          EXPECT_LE(c.mma_block.blocks, rnn_gpu::kMmaBlockMaxWaves * gpu.sms) << where;
        }
        if (c.family == RnnFamily::kRowBlock) {
          EXPECT_EQ(c.row_block.cluster_size, 1) << where;
          EXPECT_FALSE(c.row_block.overlap_projection) << where;
          EXPECT_LE(c.row_block.shared_bytes, gpu.optin) << where;
        }
      }
    }
  }
}

TEST(RnnKernelChoiceTest, PerStepLastAndAlone) {
  for (const GridGpu& gpu : GridGpus()) {
    for (const GridShape& shape : GridShapes()) {
      const MaskedRnnConfig config = ConfigOf(shape);
      const DType dtype = static_cast<DType>(shape.dtype);
      const RnnKernelChoice choice =
          ChooseRnnKernel(config, dtype, PropsOf(gpu), RnnKernelOptions());
      const std::string where = GridLinePrefix(gpu.name, "default", shape);
      ASSERT_GE(choice.candidate_count, 1) << where;
      EXPECT_EQ(choice.candidates[choice.candidate_count - 1].family, RnnFamily::kPerStep) << where;
      for (int i = 0; i + 1 < choice.candidate_count; ++i) {
        EXPECT_NE(choice.candidates[i].family, RnnFamily::kPerStep) << where;
      }
      // float64, T = 0: the per-step path only.
      if (dtype == DType::kFloat64 || config.time == 0) {
        EXPECT_EQ(choice.candidate_count, 1) << where;
      }
      // GRU reset_after=false: the tensor-core row groups where they apply
      // (Hopper, 65-512 units), the tensor-core block family (33-128 units,
      // compute capability 8.0+), else the persistent family's global modes
      // (two phases per step), on every GPU, where the weights fit.
      if (config.cell == RnnCell::kGru && !config.reset_after) {
        for (int i = 0; i + 1 < choice.candidate_count; ++i) {
          const RnnKernelCandidate& c = choice.candidates[i];
          if (c.family == RnnFamily::kMmaRowGroup) {
            EXPECT_EQ(i, 0) << where;
            EXPECT_TRUE(c.mma_row_group.variant_kernels) << where;
            continue;
          }
          if (c.family == RnnFamily::kMmaBlock) {
            EXPECT_TRUE(i == 0 || choice.candidates[i - 1].family == RnnFamily::kMmaRowGroup)
                << where;
            continue;
          }
          EXPECT_EQ(c.family, RnnFamily::kPersistent) << where;
          EXPECT_FALSE(c.persistent.cluster) << where;
        }
        if (dtype != DType::kFloat64 && config.time > 0 && config.units <= 128 &&
            config.batch <= 512) {
          EXPECT_GE(choice.candidate_count, 2) << where;
        }
      }
      RnnKernelOptions per_step;
      per_step.per_step_only = true;
      EXPECT_EQ(ChooseRnnKernel(config, dtype, PropsOf(gpu), per_step).candidate_count, 1);
    }
  }
}

// The switch that makes an H200 choose as the portable class: the families an
// A100 gets, never a Hopper one, and the same plans as an A100 with the
// H200's SM count. On an A100 itself it changes nothing.
TEST(RnnKernelChoiceTest, PortableClassOnHopperChoosesAsAnA100) {
  const std::vector<GridGpu> gpus = GridGpus();
  const GridGpu& h200 = gpus[1];
  const GridGpu& a100 = gpus[2];
  ASSERT_STREQ(h200.name, "H200");
  ASSERT_STREQ(a100.name, "A100");
  GridGpu a100_with_h200_sms = a100;
  a100_with_h200_sms.sms = h200.sms;
  RnnKernelOptions portable;
  portable.portable_class = true;
  int hopper_families_without_switch = 0;
  for (const GridShape& shape : GridShapes()) {
    const MaskedRnnConfig config = ConfigOf(shape);
    const DType dtype = static_cast<DType>(shape.dtype);
    const std::string where = GridLinePrefix("H200", "portable", shape);
    const RnnKernelChoice on_h200 = ChooseRnnKernel(config, dtype, PropsOf(h200), portable);
    const RnnKernelChoice like_a100 =
        ChooseRnnKernel(config, dtype, PropsOf(a100_with_h200_sms), RnnKernelOptions());
    EXPECT_EQ(Describe(on_h200), Describe(like_a100)) << where;
    EXPECT_EQ(Describe(ChooseRnnKernel(config, dtype, PropsOf(a100), portable)),
              Describe(ChooseRnnKernel(config, dtype, PropsOf(a100), RnnKernelOptions())))
        << where;
    const RnnKernelCandidate first =
        ChooseRnnKernel(config, dtype, PropsOf(h200), RnnKernelOptions()).first();
    hopper_families_without_switch += first.family == RnnFamily::kMmaRowGroup ||
                                       (first.family == RnnFamily::kPersistent &&
                                        first.persistent.cluster);
  }
  EXPECT_GT(hopper_families_without_switch, 0);  // the switch does change something
}

// What every unit-slice pass plan must satisfy (rnn_grad_plans.h): every
// block resident (one per SM), every unit and row covered, at most
// kUnitSliceMaxPairs pairs and one product task per thread, shared memory
// within the opt-in limit and equal to the kernel's layout of the plan.
void ExpectUnitSlicePassFits(const rnn_grad_gpu::UnitSlicePassPlan& p, bool backward,
                             int64_t batch, int64_t units, int gates, int sms, size_t optin,
                             const std::string& at, int model_bytes = 4) {
  namespace g = rnn_grad_gpu;
  EXPECT_LE(p.blocks(), sms) << at;
  EXPECT_GE(int64_t{p.unit_slices} * p.units_per_block, units) << at;
  EXPECT_LT(int64_t{p.unit_slices - 1} * p.units_per_block, units) << at;  // no empty slice
  EXPECT_GE(int64_t{p.batch_slices} * p.batch_per_block, batch) << at;
  EXPECT_EQ(p.units_per_block % 4, 0) << at;
  EXPECT_LE(p.batch_per_block * p.units_per_block, g::kUnitSliceMaxPairs * g::kUnitSliceThreads)
      << at;
  EXPECT_GE(p.row_groups * p.rows_per_thread, p.batch_per_block) << at;
  const int columns = g::SliceColumns(backward, p.units_per_block, gates);
  const int depth = g::SliceDepth(backward, units, gates);
  EXPECT_GE(p.k_splits, 1) << at;
  EXPECT_LE(p.row_groups * (columns / 4) * p.k_splits, g::kUnitSliceThreads) << at;
  EXPECT_EQ(p.chunk % 4, 0) << at;
  EXPECT_GE(p.chunk, 4) << at;
  EXPECT_LE(p.chunk, depth) << at;
  EXPECT_GE(p.stages, 2) << at;
  EXPECT_LE(p.stages, g::kUnitSliceMaxStages) << at;
  EXPECT_TRUE(p.weight_pad == 0 || p.weight_pad == 4) << at;
  EXPECT_TRUE(p.weight_bytes == 4 || (p.weight_bytes == 2 && model_bytes == 2)) << at;
  const int buffers = std::min(p.stages, (depth + p.chunk - 1) / p.chunk);
  const g::UnitSliceSmem s =
      g::UnitSliceSmemLayout(depth, columns, p.weight_pad, p.weight_bytes, p.chunk, buffers,
                             p.k_splits,
                             p.row_groups * p.rows_per_thread, p.batch_per_block * p.units_per_block);
  EXPECT_EQ(p.shared_bytes, static_cast<size_t>(s.total) * sizeof(float)) << at;
  EXPECT_LE(p.shared_bytes, optin) << at;
}

// The CUDA gradient's unit-slice plan (rnn_grad_plans.h) on every GPU of the
// grid: whatever it plans fits (every block resident, one per SM; shared
// memory within the opt-in limit; at most kUnitSliceMaxPairs pairs and one
// product task per thread; every unit and row covered), and the H200 gets a
// plan for issue 18's benchmark shapes (what bench/results/grad_h200.md timed).
// Every part `want` sets (UnitSliceForce: > 0, or >= 0 for the padding and
// the order; unset parts are the planner's) is the plan's.
void ExpectPlanHas(const rnn_grad_gpu::UnitSlicePassPlan& p,
                   const rnn_grad_gpu::UnitSliceForce& want, const std::string& at) {
  if (want.units_per_block > 0) EXPECT_EQ(p.units_per_block, want.units_per_block) << at;
  if (want.chunk > 0) EXPECT_EQ(p.chunk, want.chunk) << at;
  if (want.k_splits > 0) EXPECT_EQ(p.k_splits, want.k_splits) << at;
  if (want.stages > 0) EXPECT_EQ(p.stages, want.stages) << at;
  if (want.weight_pad >= 0) EXPECT_EQ(p.weight_pad, want.weight_pad) << at;
  if (want.order >= 0) EXPECT_EQ(static_cast<int>(p.order), want.order) << at;
  if (want.weight_bytes > 0) EXPECT_EQ(p.weight_bytes, want.weight_bytes) << at;
}

TEST(RnnKernelChoiceTest, UnitSliceGradPlansFitEachGpu) {
  for (const GridGpu& gpu : GridGpus()) {
    int planned = 0, shapes = 0;
    for (int gates : {1, 3, 4}) {
      for (int64_t units : {4, 32, 100, 128, 256, 512, 1024}) {
        for (int64_t batch : {1, 8, 64, 128, 512}) {
          ++shapes;
          rnn_grad_gpu::UnitSlicePlan plan;
          if (!rnn_grad_gpu::PlanUnitSlices(batch, units, gates, gpu.sms, gpu.optin, &plan)) {
            continue;
          }
          ++planned;
          const std::string where = std::string(gpu.name) + " gates=" + std::to_string(gates) +
                                    " U=" + std::to_string(units) + " B=" + std::to_string(batch);
          for (int pass = 0; pass < 2; ++pass) {
            const rnn_grad_gpu::UnitSlicePassPlan& p = plan.pass[pass];
            const std::string at = where + " pass=" + std::to_string(pass);
            ExpectUnitSlicePassFits(p, pass == 1, batch, units, gates, gpu.sms, gpu.optin, at);
          }
          // A 16-bit model plans too (its weights may stay 16-bit), and fits.
          rnn_grad_gpu::UnitSlicePlan half;
          EXPECT_TRUE(rnn_grad_gpu::PlanUnitSlices(batch, units, gates, gpu.sms, gpu.optin, &half,
                                                   nullptr, 2))
              << where;
          for (int pass = 0; pass < 2; ++pass) {
            ExpectUnitSlicePassFits(half.pass[pass], pass == 1, batch, units, gates, gpu.sms,
                                    gpu.optin, where + " 16-bit pass=" + std::to_string(pass), 2);
          }
        }
      }
    }
    std::printf("%-5s unit-slice gradient plans for %d of %d shapes\n", gpu.name, planned, shapes);
  }
  const GridGpu h200 = GridGpus()[1];
  for (int gates : {3, 4}) {
    for (int64_t units : {128, 512}) {
      for (int64_t batch : {8, 64, 128}) {
        rnn_grad_gpu::UnitSlicePlan plan;
        EXPECT_TRUE(rnn_grad_gpu::PlanUnitSlices(batch, units, gates, h200.sms, h200.optin, &plan))
            << "gates=" << gates << " U=" << units << " B=" << batch;
      }
    }
  }
}

// A forced part of the unit-slice plan (the sweep's knob) is taken as given
// and the rest still fits; a forced plan that cannot fit is no plan.
TEST(RnnKernelChoiceTest, UnitSliceGradPlanForced) {
  namespace g = rnn_grad_gpu;
  const GridGpu h200 = GridGpus()[1];
  g::UnitSliceForce force[2];
  // The first planner's backward at B=128 U=512 LSTM: 16 units, 64-float chunks, 8 k splits,
  // two buffers, padded weights, columns fastest.
  force[1] = {16, 64, 8, 2, 4, static_cast<int>(g::SliceTaskOrder::kColumnsFastest)};
  g::UnitSlicePlan plan;
  ASSERT_TRUE(g::PlanUnitSlices(128, 512, 4, h200.sms, h200.optin, &plan, force));
  const g::UnitSlicePassPlan& b = plan.pass[1];
  ExpectPlanHas(b, force[1], "forced");
  EXPECT_EQ(b.unit_slices, 32);
  EXPECT_EQ(b.batch_slices, 4);
  EXPECT_EQ(b.batch_per_block, 32);
  ExpectUnitSlicePassFits(b, true, 128, 512, 4, h200.sms, h200.optin, "forced");
  // 64 units of a 2048-deep product: 512 KB of weights.
  force[1] = {};
  force[1].units_per_block = 64;
  EXPECT_FALSE(g::PlanUnitSlices(128, 512, 4, h200.sms, h200.optin, &plan, force));
  // More tasks than threads.
  force[1] = {};
  force[1].k_splits = 32;
  force[1].units_per_block = 16;
  EXPECT_FALSE(g::PlanUnitSlices(128, 512, 4, h200.sms, h200.optin, &plan, force));
}

// The gradient's forced unit-slice plans from the environment (sanitizer runs).
// The H200's backward plans at issue 18's shapes are the fastest, or near
// the fastest, of bench/grad_slice_sweep.py's H200 sweep (bench/results/
// grad_h200.md, session 14; CUPTI, T=100): a change of the model that moves
// them needs a new sweep.
TEST(RnnKernelChoiceTest, UnitSliceGradPlansOnH200AsSwept) {
  namespace g = rnn_grad_gpu;
  const GridGpu h200 = GridGpus()[1];
  const struct {
    int model_bytes, gates, units, batch;
    g::UnitSliceForce backward;  // units per block, chunk, k splits, stages, pad, order, bytes
    const char* measured;
  } cases[] = {
      // LSTM float32 B=64: 1.62 ms (the first planner's 20-unit slices: 2.69).
      {4, 4, 512, 64, {16, 256, 32, 2, 0, 0, 4}, "1.62 ms, best 1.59"},
      // LSTM float32 B=128: the first planner's plan, the fastest measured (3.49 ms).
      {4, 4, 512, 128, {16, 64, 8, 2, 4, 1, 4}, "3.49 ms, best"},
      // GRU float32 B=128: likewise (2.01 ms).
      {4, 3, 512, 128, {16, 256, 16, 2, 4, 1, 4}, "2.01 ms, best"},
      // LSTM float16 B=64 / B=128: 16-bit weights, 32-unit slices (1.26 / 2.18 ms; the first
      // planner's fp32 16-unit slices: 2.70 / 3.48).
      {2, 4, 512, 64, {32, 512, 32, 2, 0, 0, 2}, "1.26 ms, best"},
      {2, 4, 512, 128, {32, 256, 16, 2, 0, 0, 2}, "2.18 ms, best"},
      // 128 units (the 128-unit sweep, bench/sweep128_device_run.sh): one 128-unit slice per
      // block, no step barrier among blocks (the model's kBarrierLatency). GRU float32 B=128
      // 0.414 ms (best 0.412; 8 slices of 16 units: 0.558), B=64 0.378 (best; 0.472); LSTM
      // float16 B=128 0.507 (best; 0.543).
      {4, 3, 128, 128, {128, 384, 8, 2, 0, 0, 4}, "0.414 ms, best 0.412"},
      {4, 3, 128, 64, {128, 384, 8, 2, 0, 0, 4}, "0.378 ms, best"},
      {2, 4, 128, 128, {128, 512, 8, 2, 0, 0, 2}, "0.507 ms, best"},
  };
  for (const auto& c : cases) {
    g::UnitSlicePlan plan;
    ASSERT_TRUE(g::PlanUnitSlices(c.batch, c.units, c.gates, h200.sms, h200.optin, &plan,
                                  nullptr, c.model_bytes));
    ExpectPlanHas(plan.pass[1], c.backward,
                  "gates=" + std::to_string(c.gates) + " U=" + std::to_string(c.units) +
                      " B=" + std::to_string(c.batch) + " bytes=" +
                      std::to_string(c.model_bytes) + " (" + c.measured + ")");
  }
}

TEST(RnnKernelChoiceTest, GradSlicePlanFromEnvironment) {
  setenv("TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN", "16,64,8,3,0,1,2", 1);
  setenv("TFTRT_MASKING_RNN_GRAD_RECOMPUTE_PLAN", "0,64", 1);
  const RnnKernelOptions o = RnnKernelOptionsFromEnvironment();
  unsetenv("TFTRT_MASKING_RNN_GRAD_BACKWARD_PLAN");
  unsetenv("TFTRT_MASKING_RNN_GRAD_RECOMPUTE_PLAN");
  const rnn_grad_gpu::UnitSliceForce& b = o.grad_slice_force[1];
  EXPECT_EQ(b.units_per_block, 16);
  EXPECT_EQ(b.chunk, 64);
  EXPECT_EQ(b.k_splits, 8);
  EXPECT_EQ(b.stages, 3);
  EXPECT_EQ(b.weight_pad, 0);
  EXPECT_EQ(b.order, 1);
  EXPECT_EQ(b.weight_bytes, 2);
  const rnn_grad_gpu::UnitSliceForce& r = o.grad_slice_force[0];
  EXPECT_EQ(r.units_per_block, 0);
  EXPECT_EQ(r.chunk, 64);
  EXPECT_EQ(r.stages, 0);
  EXPECT_EQ(r.weight_pad, -1);
  EXPECT_EQ(r.order, -1);
  EXPECT_EQ(r.weight_bytes, 0);
  const RnnKernelOptions none = RnnKernelOptionsFromEnvironment();
  EXPECT_EQ(none.grad_slice_force[1].chunk, 0);
  EXPECT_EQ(none.grad_slice_force[1].weight_pad, -1);
}

TEST(RnnKernelChoiceTest, OptionsFromEnvironment) {
  const struct {
    const char* name;
    bool RnnKernelOptions::*field;
  } flags[] = {
      {"TFTRT_MASKING_RNN_SIMPLE", &RnnKernelOptions::per_step_only},
      {"TFTRT_MASKING_RNN_NO_ROW_BLOCK", &RnnKernelOptions::no_row_kernels},
      {"TFTRT_MASKING_RNN_NO_MMA_ROWS", &RnnKernelOptions::no_mma_row_group},
      {"TFTRT_MASKING_RNN_ROWS_8_WARPS", &RnnKernelOptions::row_group_8_warps},
      {"TFTRT_MASKING_RNN_NO_CLUSTER", &RnnKernelOptions::no_clusters},
      {"TFTRT_MASKING_RNN_NO_MMA", &RnnKernelOptions::no_persistent_mma},
      {"TFTRT_MASKING_RNN_NO_MMA_BLOCK", &RnnKernelOptions::no_mma_block},
      {"TFTRT_MASKING_RNN_NO_OVERLAP", &RnnKernelOptions::no_overlap},
      {"TFTRT_MASKING_RNN_NO_PIPELINED_PROJECTION", &RnnKernelOptions::no_pipelined_projection},
      {"TFTRT_MASKING_RNN_PORTABLE", &RnnKernelOptions::portable_class},
  };
  for (const auto& flag : flags) {
    EXPECT_FALSE(RnnKernelOptionsFromEnvironment().*flag.field) << flag.name;
    setenv(flag.name, "1", 1);
    EXPECT_TRUE(RnnKernelOptionsFromEnvironment().*flag.field) << flag.name;
    setenv(flag.name, "0", 1);
    EXPECT_FALSE(RnnKernelOptionsFromEnvironment().*flag.field) << flag.name;
    unsetenv(flag.name);
  }
  setenv("TFTRT_MASKING_RNN_ROWS_BULK", "1", 1);
  EXPECT_EQ(RnnKernelOptionsFromEnvironment().row_group_copy, rnn_gpu::RowGroupCopy::kBulk);
  setenv("TFTRT_MASKING_RNN_ROWS_ST_ASYNC", "1", 1);  // st.async wins, as before
  EXPECT_EQ(RnnKernelOptionsFromEnvironment().row_group_copy, rnn_gpu::RowGroupCopy::kStAsync);
  unsetenv("TFTRT_MASKING_RNN_ROWS_BULK");
  unsetenv("TFTRT_MASKING_RNN_ROWS_ST_ASYNC");
  EXPECT_EQ(RnnKernelOptionsFromEnvironment().row_group_copy, rnn_gpu::RowGroupCopy::kAuto);
}

// The tensor-core block family at 128 units (issue 19): which family runs
// first per GPU, dtype and cell (B = 8, T = 100, F = 64). Without clusters it
// replaces the persistent global modes wherever its shared memory fits (fp32:
// W_lo, 136-156 KB: A100 / Orin yes, A10 / L4 no; relu / linear: h past
// fp16's range, no); T4 (7.5) never gets it; on
// Hopper it comes after the row-group kernel (default LSTM / GRU) and the
// row-block kernel (default SimpleRNN) and takes the rest.
TEST(RnnKernelChoiceTest, MmaBlockFamilyAt128Units) {
  struct Case {
    int cell;  // GridShape's: 0 LSTM, 1 GRU, 2 SimpleRNN
    bool reset_after, relu;
  };
  const Case cases[] = {{0, true, false}, {1, true, false}, {1, false, false},
                        {2, true, false}, {0, true, true},  {2, true, true}};
  auto name_of = [](const Case& c) {
    return std::string(c.cell == 0 ? "lstm" : (c.cell == 2 ? "simple_rnn" : (c.reset_after ? "gru" : "gru_rb"))) +
           (c.relu ? " relu" : " tanh");
  };
  for (const bool fp32_on : {false, true}) {  // float32 on the block kernel: on request only
    RnnKernelOptions options;
    options.mma_block_fp32 = fp32_on;
    for (const GridGpu& gpu : GridGpus()) {
      for (const DType dtype : {DType::kFloat16, DType::kBFloat16, DType::kFloat32}) {
        for (const Case& c : cases) {
          MaskedRnnConfig config;
          config.cell = static_cast<RnnCell>(c.cell);
          config.reset_after = c.reset_after;
          config.batch = 8;
          config.time = 100;
          config.input_size = 64;
          config.units = 128;
          if (c.relu) config.activation = Activation::kRelu;
          const RnnKernelChoice choice = ChooseRnnKernel(config, dtype, PropsOf(gpu), options);
          const std::string where = std::string(gpu.name) + " " + name_of(c) + " dtype=" +
                                    std::to_string(static_cast<int>(dtype)) +
                                    (fp32_on ? " mma_block_fp32" : "");
          const bool default_acts = !c.relu;
          // fp32: on request, W_lo in shared memory, and h within fp16's range (not relu).
          const bool fits = gpu.major >= 8 && (dtype != DType::kFloat32 ||
                                               (fp32_on && gpu.optin >= 160 * 1024 && !c.relu));
          RnnFamily want = fits ? RnnFamily::kMmaBlock : RnnFamily::kPersistent;
          // Hopper: the row-group kernel takes every cell and activation (its
          // variants), fp32 only where h stays bounded (not relu).
          if (gpu.major >= 9 && (dtype != DType::kFloat32 || !c.relu)) {
            want = RnnFamily::kMmaRowGroup;
          }
          if (c.cell == 2 && default_acts) want = RnnFamily::kRowBlock;  // every GPU
          EXPECT_EQ(RnnFamilyName(choice.first().family), std::string(RnnFamilyName(want))) << where;
          bool listed = false;
          for (int i = 0; i < choice.candidate_count; ++i) {
            listed |= choice.candidates[i].family == RnnFamily::kMmaBlock;
          }
          EXPECT_EQ(listed, fits) << where;
          if (fits && choice.first().family == RnnFamily::kMmaBlock) {
            EXPECT_EQ(choice.first().mma_block.k_tiles, 8) << where;
            EXPECT_EQ(choice.first().mma_block.threads, 512) << where;
            EXPECT_EQ(choice.first().mma_block.blocks, 1) << where;
          }
        }
      }
    }
  }

  // The knob and the row-kernel switch turn it off.
  MaskedRnnConfig config;
  config.batch = 8;
  config.time = 100;
  config.input_size = 64;
  config.units = 128;
  RnnKernelOptions off;
  off.no_mma_block = true;
  const GridGpu a100 = GridGpus()[2];
  EXPECT_EQ(ChooseRnnKernel(config, DType::kFloat16, PropsOf(a100), RnnKernelOptions()).first().family,
            RnnFamily::kMmaBlock);
  EXPECT_EQ(ChooseRnnKernel(config, DType::kFloat16, PropsOf(a100), off).first().family,
            RnnFamily::kPersistent);
  off = RnnKernelOptions();
  off.no_row_kernels = true;
  EXPECT_EQ(ChooseRnnKernel(config, DType::kFloat16, PropsOf(a100), off).first().family,
            RnnFamily::kPersistent);
  // Batches past kMmaBlockMaxWaves waves of 8-row blocks: the persistent family.
  config.batch = int64_t{8} * rnn_gpu::kMmaBlockMaxWaves * a100.sms + 1;
  EXPECT_NE(ChooseRnnKernel(config, DType::kFloat16, PropsOf(a100), RnnKernelOptions()).first().family,
            RnnFamily::kMmaBlock);
}

// Unaligned pointers: no row-block kernel (it copies the mask in 4-byte
// words), no pipelined projection tile (16-byte copies).
TEST(RnnKernelChoiceTest, UnalignedPointers) {
  const GridGpu h200 = GridGpus()[1];
  MaskedRnnConfig config;
  config.batch = 8;
  config.time = 100;
  config.input_size = 64;
  config.units = 32;
  RnnArgsAlignment aligned, unaligned;
  unaligned.mask_4_bytes = false;
  unaligned.x_kernel_16_bytes = false;
  const RnnKernelChoice a =
      ChooseRnnKernel(config, DType::kFloat16, PropsOf(h200), RnnKernelOptions(), aligned);
  const RnnKernelChoice b =
      ChooseRnnKernel(config, DType::kFloat16, PropsOf(h200), RnnKernelOptions(), unaligned);
  EXPECT_EQ(a.first().family, RnnFamily::kRowBlock);
  EXPECT_TRUE(a.projection.pipelined);
  EXPECT_NE(b.first().family, RnnFamily::kRowBlock);
  EXPECT_FALSE(b.projection.pipelined);
}

}  // namespace
}  // namespace tftrt_masking
