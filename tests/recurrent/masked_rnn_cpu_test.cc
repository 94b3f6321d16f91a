// The CPU masked recurrence (kernels/rnn/masked_rnn_cpu.h), without TensorFlow:
// the step rule on hand-made masks, bit-exact properties, and a comparison
// against a straightforward double-precision loop written here from the spec.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_cpu.h"

namespace tftrt_masking {
namespace {

// ---------------------------------------------------------------------------
// Problem setup.

struct Problem {
  MaskedRnnConfig config;
  std::vector<double> x, kernel, recurrent_kernel, bias, initial_h, initial_c;
  std::vector<uint8_t> mask;  // [B, T]
};

int64_t Width(const MaskedRnnConfig& config) { return GateCount(config.cell) * config.units; }

Problem RandomProblem(const MaskedRnnConfig& config, uint32_t seed, double mask_keep = 0.7) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::bernoulli_distribution keep(mask_keep);
  Problem p;
  p.config = config;
  const int64_t b = config.batch, t = config.time, f = config.input_size, u = config.units;
  const double weight_scale = 1.0 / std::sqrt(static_cast<double>(f + u + 1));
  auto fill = [&](std::vector<double>* v, int64_t n, double scale) {
    v->resize(n);
    for (double& e : *v) e = scale * normal(gen);
  };
  fill(&p.x, b * t * f, 1.0);
  fill(&p.kernel, f * Width(config), weight_scale);
  fill(&p.recurrent_kernel, u * Width(config), weight_scale);
  fill(&p.bias, BiasSize(config), 0.5);
  fill(&p.initial_h, b * u, 0.5);
  fill(&p.initial_c, b * u, 0.5);
  p.mask.resize(b * t);
  for (uint8_t& m : p.mask) m = keep(gen) ? 1 : 0;
  return p;
}

template <typename T>
std::vector<T> Cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
struct Result {
  std::vector<T> output, final_h, final_c;
};

// Runs the CPU kernel in element type T on the problem.
template <typename T>
Result<T> RunKernel(const Problem& p) {
  const MaskedRnnConfig& c = p.config;
  const std::vector<T> x = Cast<T>(p.x), kernel = Cast<T>(p.kernel),
                       recurrent_kernel = Cast<T>(p.recurrent_kernel), bias = Cast<T>(p.bias),
                       h0 = Cast<T>(p.initial_h), c0 = Cast<T>(p.initial_c);
  std::unique_ptr<bool[]> mask(new bool[p.mask.size() + 1]);
  for (size_t i = 0; i < p.mask.size(); ++i) mask[i] = p.mask[i] != 0;
  Result<T> r;
  const T poison = std::numeric_limits<T>::quiet_NaN();
  r.output.assign(c.batch * (c.return_sequences ? c.time : 1) * c.units, poison);
  r.final_h.assign(c.batch * c.units, poison);
  r.final_c.assign(c.batch * c.units, poison);
  MaskedRnnArgs<T, bool> args;
  args.x = x.data();
  args.mask = mask.get();
  args.kernel = kernel.data();
  args.recurrent_kernel = recurrent_kernel.data();
  args.bias = c.has_bias ? bias.data() : nullptr;
  args.initial_h = h0.data();
  args.initial_c = c0.data();
  args.output = r.output.data();
  args.final_h = r.final_h.data();
  args.final_c = c.cell == RnnCell::kLstm ? r.final_c.data() : nullptr;
  const char* error = MaskedRnnCpu(c, args);
  EXPECT_EQ(error, nullptr) << error;
  return r;
}

// ---------------------------------------------------------------------------
// The reference: one row, one step at a time, in double, from the spec.

double ActivateRef(Activation a, double v) {
  switch (a) {
    case Activation::kTanh: return std::tanh(v);
    case Activation::kSigmoid: return 1.0 / (1.0 + std::exp(-v));
    case Activation::kRelu: return v > 0 ? v : 0.0;
    case Activation::kLinear: return v;
    case Activation::kHardSigmoid: return std::min(std::max(v + 3.0, 0.0), 6.0) / 6.0;
    case Activation::kHardSigmoidKeras2: return std::min(std::max(0.2 * v + 0.5, 0.0), 1.0);
  }
  return v;
}

Result<double> RunReference(const Problem& p) {
  const MaskedRnnConfig& c = p.config;
  const int64_t T = c.time, F = c.input_size, U = c.units, W = Width(c);
  Result<double> r;
  r.output.assign(c.batch * (c.return_sequences ? T : 1) * U, 0.0);
  r.final_h.assign(c.batch * U, 0.0);
  r.final_c.assign(c.batch * U, 0.0);
  auto act = [&](double v) { return ActivateRef(c.activation, v); };
  auto rec = [&](double v) { return ActivateRef(c.recurrent_activation, v); };
  for (int64_t b = 0; b < c.batch; ++b) {
    std::vector<double> h(p.initial_h.begin() + b * U, p.initial_h.begin() + (b + 1) * U);
    std::vector<double> cc(p.initial_c.begin() + b * U, p.initial_c.begin() + (b + 1) * U);
    std::vector<double> y(U, 0.0);
    for (int64_t tau = 0; tau < T; ++tau) {
      const int64_t t = c.go_backwards ? T - 1 - tau : tau;
      // xw = x_t @ W, hu = h @ U (all G*U columns).
      std::vector<double> xw(W, 0.0), hu(W, 0.0);
      for (int64_t n = 0; n < W; ++n) {
        for (int64_t k = 0; k < F; ++k) xw[n] += p.x[(b * T + t) * F + k] * p.kernel[k * W + n];
        for (int64_t k = 0; k < U; ++k) hu[n] += h[k] * p.recurrent_kernel[k * W + n];
      }
      auto bias_in = [&](int64_t n) { return c.has_bias ? p.bias[n] : 0.0; };
      auto bias_rec = [&](int64_t n) {
        return c.has_bias && c.cell == RnnCell::kGru && c.reset_after ? p.bias[W + n] : 0.0;
      };
      std::vector<double> h_new(U), c_new(U);
      for (int64_t n = 0; n < U; ++n) {
        if (c.cell == RnnCell::kLstm) {
          auto z = [&](int g) { return xw[g * U + n] + hu[g * U + n] + bias_in(g * U + n); };
          c_new[n] = rec(z(1)) * cc[n] + rec(z(0)) * act(z(2));
          h_new[n] = rec(z(3)) * act(c_new[n]);
        } else if (c.cell == RnnCell::kSimpleRnn) {
          h_new[n] = act(xw[n] + bias_in(n) + hu[n]);
        }
      }
      if (c.cell == RnnCell::kGru) {
        std::vector<double> zg(U), rg(U);
        for (int64_t n = 0; n < U; ++n) {
          zg[n] = rec(xw[n] + bias_in(n) + hu[n] + bias_rec(n));
          rg[n] = rec(xw[U + n] + bias_in(U + n) + hu[U + n] + bias_rec(U + n));
        }
        for (int64_t n = 0; n < U; ++n) {
          double recurrent_h = 0.0;
          if (c.reset_after) {
            recurrent_h = rg[n] * (hu[2 * U + n] + bias_rec(2 * U + n));
          } else {
            for (int64_t k = 0; k < U; ++k) {
              recurrent_h += rg[k] * h[k] * p.recurrent_kernel[k * W + 2 * U + n];
            }
          }
          const double hh = act(xw[2 * U + n] + bias_in(2 * U + n) + recurrent_h);
          h_new[n] = zg[n] * h[n] + (1.0 - zg[n]) * hh;
        }
      }
      const bool keep = p.mask[b * T + t] != 0;
      if (keep) {
        h = h_new;
        if (c.cell == RnnCell::kLstm) cc = c_new;
        y = h_new;
      } else if (c.zero_output_for_mask) {
        y.assign(U, 0.0);
      }
      if (c.return_sequences) {
        std::copy(y.begin(), y.end(), r.output.begin() + (b * T + tau) * U);
      }
    }
    if (!c.return_sequences) std::copy(y.begin(), y.end(), r.output.begin() + b * U);
    std::copy(h.begin(), h.end(), r.final_h.begin() + b * U);
    std::copy(cc.begin(), cc.end(), r.final_c.begin() + b * U);
  }
  return r;
}

template <typename T>
void ExpectNear(const std::vector<T>& got, const std::vector<double>& want, double tol,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    ASSERT_FALSE(std::isnan(static_cast<double>(got[i]))) << what << " element " << i;
    worst = std::max(worst, err);
    ASSERT_LE(err, tol * (1.0 + std::fabs(want[i]))) << what << " element " << i;
  }
  SUCCEED() << what << " max abs error " << worst;
}

template <typename T>
bool BitEqual(const T* a, const T* b, int64_t n) {
  return std::memcmp(a, b, n * sizeof(T)) == 0;
}

std::string Describe(const MaskedRnnConfig& c) {
  const char* cells[] = {"lstm", "gru", "simple_rnn"};
  return std::string(cells[static_cast<int>(c.cell)]) + " act=" + ActivationName(c.activation) +
         " rec=" + ActivationName(c.recurrent_activation) + " bias=" +
         std::to_string(c.has_bias) + " reset_after=" + std::to_string(c.reset_after) +
         " backwards=" + std::to_string(c.go_backwards) +
         " seq=" + std::to_string(c.return_sequences) +
         " zero_out=" + std::to_string(c.zero_output_for_mask);
}

MaskedRnnConfig Config(RnnCell cell, int64_t batch, int64_t time, int64_t features,
                       int64_t units) {
  MaskedRnnConfig c;
  c.cell = cell;
  c.batch = batch;
  c.time = time;
  c.input_size = features;
  c.units = units;
  return c;
}

// Every cell variant with every flag combination worth separating.
std::vector<MaskedRnnConfig> AllVariants(int64_t batch, int64_t time, int64_t features,
                                         int64_t units) {
  std::vector<MaskedRnnConfig> out;
  for (RnnCell cell : {RnnCell::kLstm, RnnCell::kGru, RnnCell::kSimpleRnn}) {
    for (int flags = 0; flags < 16; ++flags) {
      MaskedRnnConfig c = Config(cell, batch, time, features, units);
      c.go_backwards = flags & 1;
      c.return_sequences = flags & 2;
      c.zero_output_for_mask = flags & 4;
      c.has_bias = !(flags & 8);
      out.push_back(c);
      if (cell == RnnCell::kGru) {
        c.reset_after = false;
        out.push_back(c);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Against the double-precision reference.

TEST(MaskedRnnCpu, DoubleMatchesReferenceLoop) {
  uint32_t seed = 1;
  for (const MaskedRnnConfig& c : AllVariants(5, 7, 3, 4)) {
    const Problem p = RandomProblem(c, seed++);
    const Result<double> want = RunReference(p);
    const Result<double> got = RunKernel<double>(p);
    ExpectNear(got.output, want.output, 1e-12, "output " + Describe(c));
    ExpectNear(got.final_h, want.final_h, 1e-12, "final_h " + Describe(c));
    if (c.cell == RnnCell::kLstm) {
      ExpectNear(got.final_c, want.final_c, 1e-12, "final_c " + Describe(c));
    }
  }
}

TEST(MaskedRnnCpu, FloatMatchesReferenceLoop) {
  uint32_t seed = 100;
  for (const MaskedRnnConfig& c : AllVariants(9, 12, 6, 16)) {
    const Problem p = RandomProblem(c, seed++);
    const Result<double> want = RunReference(p);
    const Result<float> got = RunKernel<float>(p);
    ExpectNear(got.output, want.output, 2e-5, "output " + Describe(c));
    ExpectNear(got.final_h, want.final_h, 2e-5, "final_h " + Describe(c));
    if (c.cell == RnnCell::kLstm) {
      ExpectNear(got.final_c, want.final_c, 2e-5, "final_c " + Describe(c));
    }
  }
}

TEST(MaskedRnnCpu, EveryActivationMatchesReference) {
  const Activation all[] = {Activation::kTanh,   Activation::kSigmoid,
                            Activation::kRelu,   Activation::kLinear,
                            Activation::kHardSigmoid, Activation::kHardSigmoidKeras2};
  uint32_t seed = 500;
  for (RnnCell cell : {RnnCell::kLstm, RnnCell::kGru, RnnCell::kSimpleRnn}) {
    for (Activation a : all) {
      for (Activation ra : all) {
        MaskedRnnConfig c = Config(cell, 3, 6, 4, 5);
        c.activation = a;
        c.recurrent_activation = ra;
        c.return_sequences = true;
        const Problem p = RandomProblem(c, seed++);
        const Result<double> want = RunReference(p);
        ExpectNear(RunKernel<double>(p).output, want.output, 1e-12, Describe(c));
        ExpectNear(RunKernel<float>(p).output, want.output, 5e-5, Describe(c));
      }
    }
  }
}

// Inputs large enough that the dot products span several column blocks and
// the projection buffer splits the sequence into several time blocks.
TEST(MaskedRnnCpu, LargeShapesMatchReference) {
  MaskedRnnConfig c = Config(RnnCell::kLstm, 40, 50, 70, 80);
  c.return_sequences = true;
  const Problem p = RandomProblem(c, 77);
  const Result<double> want = RunReference(p);
  ExpectNear(RunKernel<float>(p).output, want.output, 5e-5, "lstm large");
  c.cell = RnnCell::kGru;
  c.reset_after = false;
  const Problem q = RandomProblem(c, 78);
  ExpectNear(RunKernel<float>(q).output, RunReference(q).output, 5e-5, "gru large");
}

// ---------------------------------------------------------------------------
// The step rule on hand-made masks.

Problem WithMask(Problem p, const std::vector<std::vector<int>>& rows) {
  const int64_t T = p.config.time;
  for (size_t b = 0; b < rows.size(); ++b) {
    for (int64_t t = 0; t < T; ++t) p.mask[b * T + t] = static_cast<uint8_t>(rows[b][t]);
  }
  return p;
}

class StepRule : public ::testing::TestWithParam<RnnCell> {};

TEST_P(StepRule, MaskedStepCarriesOutputAndStateBitExact) {
  MaskedRnnConfig c = Config(GetParam(), 2, 6, 3, 5);
  c.return_sequences = true;
  const Problem p = WithMask(RandomProblem(c, 3), {{1, 1, 0, 1, 0, 0}, {1, 0, 0, 1, 1, 1}});
  const Result<float> r = RunKernel<float>(p);
  const int64_t U = c.units, T = c.time;
  auto step = [&](int b, int tau) { return r.output.data() + (b * T + tau) * U; };
  EXPECT_TRUE(BitEqual(step(0, 2), step(0, 1), U));
  EXPECT_TRUE(BitEqual(step(0, 4), step(0, 3), U));
  EXPECT_TRUE(BitEqual(step(0, 5), step(0, 3), U));
  EXPECT_FALSE(BitEqual(step(0, 3), step(0, 1), U)) << "a kept step must change the output";
  EXPECT_TRUE(BitEqual(step(1, 1), step(1, 0), U));
  EXPECT_TRUE(BitEqual(step(1, 2), step(1, 0), U));
  // The final state is the output of the last kept step, bit for bit.
  EXPECT_TRUE(BitEqual(r.final_h.data(), step(0, 3), U));
}

TEST_P(StepRule, LeadingMaskedStepsOutputZeroAndKeepInitialState) {
  MaskedRnnConfig c = Config(GetParam(), 2, 5, 3, 4);
  c.return_sequences = true;
  const Problem p = WithMask(RandomProblem(c, 4), {{0, 0, 1, 1, 0}, {0, 0, 0, 0, 0}});
  const Result<float> r = RunKernel<float>(p);
  const int64_t U = c.units, T = c.time;
  for (int tau : {0, 1}) {
    for (int64_t n = 0; n < U; ++n) {
      EXPECT_EQ(r.output[tau * U + n], 0.0f);
      EXPECT_FALSE(std::signbit(r.output[tau * U + n]));
    }
  }
  // Row 1 is fully masked: output 0 everywhere, states bit-equal to h0 / c0.
  for (int64_t i = 0; i < T * U; ++i) EXPECT_EQ(r.output[T * U + i], 0.0f);
  const std::vector<float> h0 = Cast<float>(p.initial_h), c0 = Cast<float>(p.initial_c);
  EXPECT_TRUE(BitEqual(r.final_h.data() + U, h0.data() + U, U));
  if (c.cell == RnnCell::kLstm) {
    EXPECT_TRUE(BitEqual(r.final_c.data() + U, c0.data() + U, U));
  }
  // Row 0's state starts from h0 at step 2: compare with the reference.
  const Result<double> want = RunReference(p);
  ExpectNear(r.final_h, want.final_h, 2e-5, "final_h");
}

TEST_P(StepRule, FullyMaskedRowLastOutputIsZero) {
  MaskedRnnConfig c = Config(GetParam(), 1, 4, 2, 3);
  const Problem p = WithMask(RandomProblem(c, 5), {{0, 0, 0, 0}});
  const Result<float> r = RunKernel<float>(p);
  for (float v : r.output) EXPECT_EQ(v, 0.0f);
  const std::vector<float> h0 = Cast<float>(p.initial_h);
  EXPECT_TRUE(BitEqual(r.final_h.data(), h0.data(), c.units));
}

TEST_P(StepRule, ZeroOutputForMaskZeroesMaskedStepsAndRightPaddedLastOutput) {
  MaskedRnnConfig c = Config(GetParam(), 1, 5, 3, 4);
  c.zero_output_for_mask = true;
  c.return_sequences = true;
  const Problem p = WithMask(RandomProblem(c, 6), {{1, 0, 1, 1, 0}});
  const Result<float> seq = RunKernel<float>(p);
  const int64_t U = c.units;
  for (int tau : {1, 4}) {
    for (int64_t n = 0; n < U; ++n) EXPECT_EQ(seq.output[tau * U + n], 0.0f) << tau;
  }
  for (int tau : {0, 2, 3}) {
    bool any_nonzero = false;
    for (int64_t n = 0; n < U; ++n) any_nonzero |= seq.output[tau * U + n] != 0.0f;
    EXPECT_TRUE(any_nonzero) << tau;
  }
  // return_sequences=False with right padding: the last output is 0 but the
  // state is that of step 3.
  c.return_sequences = false;
  Problem last = p;
  last.config = c;
  const Result<float> r = RunKernel<float>(last);
  for (float v : r.output) EXPECT_EQ(v, 0.0f);
  EXPECT_TRUE(BitEqual(r.final_h.data(), seq.output.data() + 3 * U, U));
}

TEST_P(StepRule, GoBackwardsEqualsForwardOnReversedSequence) {
  MaskedRnnConfig c = Config(GetParam(), 3, 7, 4, 5);
  c.return_sequences = true;
  c.go_backwards = true;
  const Problem backward = WithMask(
      RandomProblem(c, 7), {{1, 1, 1, 1, 0, 0, 0}, {0, 0, 1, 1, 1, 1, 1}, {1, 0, 1, 0, 0, 1, 1}});
  Problem forward = backward;
  forward.config.go_backwards = false;
  const int64_t T = c.time, F = c.input_size;
  for (int64_t b = 0; b < c.batch; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      forward.mask[b * T + t] = backward.mask[b * T + (T - 1 - t)];
      for (int64_t f = 0; f < F; ++f) {
        forward.x[(b * T + t) * F + f] = backward.x[(b * T + (T - 1 - t)) * F + f];
      }
    }
  }
  const Result<float> rb = RunKernel<float>(backward), rf = RunKernel<float>(forward);
  // Outputs stay in processing order: the same arrays, bit for bit.
  EXPECT_TRUE(BitEqual(rb.output.data(), rf.output.data(), rb.output.size()));
  EXPECT_TRUE(BitEqual(rb.final_h.data(), rf.final_h.data(), rb.final_h.size()));
  // And the order really is reversed: differs from the plain forward run.
  Problem not_reversed = backward;
  not_reversed.config.go_backwards = false;
  const Result<float> rn = RunKernel<float>(not_reversed);
  EXPECT_FALSE(BitEqual(rb.output.data(), rn.output.data(), rb.output.size()));
}

// The spec's seed example: masked holes give the same bits as the sequence
// with those steps removed (and rows never depend on each other).
TEST_P(StepRule, MaskedHolesEqualSequenceWithStepsRemoved) {
  MaskedRnnConfig c = Config(GetParam(), 6, 10, 8, 32);
  const Problem full = RandomProblem(c, 8, /*mask_keep=*/1.0);
  Problem holes = full;
  for (int64_t b = 0; b < c.batch; ++b) {
    holes.mask[b * 10 + 3] = 0;
    holes.mask[b * 10 + 5] = 0;
  }
  Problem compact = full;
  compact.config.time = 8;
  compact.x.clear();
  compact.mask.assign(c.batch * 8, 1);
  for (int64_t b = 0; b < c.batch; ++b) {
    for (int64_t t = 0; t < 10; ++t) {
      if (t == 3 || t == 5) continue;
      for (int64_t f = 0; f < c.input_size; ++f) {
        compact.x.push_back(full.x[(b * 10 + t) * c.input_size + f]);
      }
    }
  }
  const Result<float> a = RunKernel<float>(holes), b = RunKernel<float>(compact);
  EXPECT_TRUE(BitEqual(a.output.data(), b.output.data(), a.output.size()));
  EXPECT_TRUE(BitEqual(a.final_h.data(), b.final_h.data(), a.final_h.size()));
  const Result<float> unmasked = RunKernel<float>(full);
  EXPECT_FALSE(BitEqual(a.output.data(), unmasked.output.data(), a.output.size()));
}

std::string CellName(const ::testing::TestParamInfo<RnnCell>& info) {
  switch (info.param) {
    case RnnCell::kLstm: return "Lstm";
    case RnnCell::kGru: return "Gru";
    case RnnCell::kSimpleRnn: return "SimpleRnn";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Cells, StepRule,
                         ::testing::Values(RnnCell::kLstm, RnnCell::kGru, RnnCell::kSimpleRnn),
                         CellName);

// ---------------------------------------------------------------------------
// Independence of rows, shards and mask dtype.

TEST(MaskedRnnCpu, RowResultDoesNotDependOnBatchOrSharding) {
  for (const MaskedRnnConfig& base : AllVariants(37, 9, 5, 12)) {
    if (!base.return_sequences || base.has_bias == false) continue;
    const Problem p = RandomProblem(base, 11);
    const Result<float> whole = RunKernel<float>(p);
    // Row 20 alone, as a batch of one.
    Problem single = p;
    const int64_t T = base.time, F = base.input_size, U = base.units, row = 20;
    single.config.batch = 1;
    single.x.assign(p.x.begin() + row * T * F, p.x.begin() + (row + 1) * T * F);
    single.mask.assign(p.mask.begin() + row * T, p.mask.begin() + (row + 1) * T);
    single.initial_h.assign(p.initial_h.begin() + row * U, p.initial_h.begin() + (row + 1) * U);
    single.initial_c.assign(p.initial_c.begin() + row * U, p.initial_c.begin() + (row + 1) * U);
    const Result<float> alone = RunKernel<float>(single);
    EXPECT_TRUE(BitEqual(alone.output.data(), whole.output.data() + row * T * U, T * U))
        << Describe(base);
    // Uneven shards through MaskedRnnCpuRows.
    const std::vector<float> x = Cast<float>(p.x), k = Cast<float>(p.kernel),
                             rk = Cast<float>(p.recurrent_kernel), bias = Cast<float>(p.bias),
                             h0 = Cast<float>(p.initial_h), c0 = Cast<float>(p.initial_c);
    std::vector<int32_t> mask(p.mask.begin(), p.mask.end());  // int32 mask, as TensorRT's
    std::vector<float> out(whole.output.size()), h1(whole.final_h.size()), c1(h1.size());
    MaskedRnnArgs<float, int32_t> args;
    args.x = x.data();
    args.mask = mask.data();
    args.kernel = k.data();
    args.recurrent_kernel = rk.data();
    args.bias = bias.data();
    args.initial_h = h0.data();
    args.initial_c = c0.data();
    args.output = out.data();
    args.final_h = h1.data();
    args.final_c = c1.data();
    const auto weights = PrepareCpuRnnWeights(base, args);
    const int64_t bounds[] = {0, 1, 4, 17, 36, 37};
    for (int s = 0; s + 1 < 6; ++s) MaskedRnnCpuRows(base, weights, args, bounds[s], bounds[s + 1]);
    EXPECT_TRUE(BitEqual(out.data(), whole.output.data(), out.size())) << Describe(base);
    EXPECT_TRUE(BitEqual(h1.data(), whole.final_h.data(), h1.size())) << Describe(base);
  }
}

// A 16-bit element type (bfloat16 by truncation) takes the convert-to-float
// path: results equal the float kernel on the same rounded inputs, rounded.
struct Bf16 {
  uint16_t bits = 0;
  Bf16() = default;
  explicit Bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    bits = static_cast<uint16_t>(u >> 16);
  }
  explicit Bf16(double d) : Bf16(static_cast<float>(d)) {}
  explicit operator float() const {
    const uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

TEST(MaskedRnnCpu, SixteenBitTypeComputesInFloat) {
  MaskedRnnConfig c = Config(RnnCell::kGru, 4, 6, 3, 8);
  c.return_sequences = true;
  Problem p = RandomProblem(c, 12);
  // Round every input to bf16 so that the float run sees the same values.
  for (auto* v : {&p.x, &p.kernel, &p.recurrent_kernel, &p.bias, &p.initial_h}) {
    for (double& e : *v) e = static_cast<float>(Bf16(e));
  }
  const Result<float> want = RunKernel<float>(p);
  std::vector<Bf16> x, k, rk, bias, h0, out(want.output.size()), h1(want.final_h.size());
  for (double e : p.x) x.emplace_back(e);
  for (double e : p.kernel) k.emplace_back(e);
  for (double e : p.recurrent_kernel) rk.emplace_back(e);
  for (double e : p.bias) bias.emplace_back(e);
  for (double e : p.initial_h) h0.emplace_back(e);
  std::unique_ptr<bool[]> mask(new bool[p.mask.size()]);
  for (size_t i = 0; i < p.mask.size(); ++i) mask[i] = p.mask[i] != 0;
  MaskedRnnArgs<Bf16, bool> args;
  args.x = x.data();
  args.mask = mask.get();
  args.kernel = k.data();
  args.recurrent_kernel = rk.data();
  args.bias = bias.data();
  args.initial_h = h0.data();
  args.output = out.data();
  args.final_h = h1.data();
  ASSERT_EQ(MaskedRnnCpu(c, args), nullptr);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].bits, Bf16(want.output[i]).bits) << i;
  }
  for (size_t i = 0; i < h1.size(); ++i) EXPECT_EQ(h1[i].bits, Bf16(want.final_h[i]).bits) << i;
}

// The generic, AVX2 + FMA and AVX-512 builds give the same bits (std::fma is
// exact everywhere). Levels this CPU lacks are skipped.
TEST(MaskedRnnCpu, EveryCpuBuildGivesTheSameBits) {
  const int best = MaskedRnnCpuLevel();
  if (best == 0) GTEST_SKIP() << "only the generic build runs on this CPU";
  // Column counts that exercise every tile width and tail: 4U = 84, 3U = 63, U = 21.
  for (const MaskedRnnConfig& base : AllVariants(13, 8, 19, 21)) {
    MaskedRnnConfig c = base;
    c.return_sequences = true;
    const Problem p = RandomProblem(c, 21);
    const Result<float> fast = RunKernel<float>(p);
    const Result<double> fast64 = RunKernel<double>(p);
    for (int level = 0; level < best; ++level) {
      cpu_internal::ForcedCpuLevelForTesting() = level;
      ASSERT_EQ(MaskedRnnCpuLevel(), level);
      const Result<float> other = RunKernel<float>(p);
      const Result<double> other64 = RunKernel<double>(p);
      EXPECT_TRUE(BitEqual(fast.output.data(), other.output.data(), fast.output.size()))
          << Describe(c) << " level " << level;
      EXPECT_TRUE(BitEqual(fast64.output.data(), other64.output.data(), fast64.output.size()))
          << Describe(c) << " level " << level;
    }
    cpu_internal::ForcedCpuLevelForTesting() = -1;
  }
}

// ---------------------------------------------------------------------------
// Empty shapes and validation.

TEST(MaskedRnnCpu, EmptyShapes) {
  // T = 0: last output 0, final states = initial states.
  MaskedRnnConfig c = Config(RnnCell::kLstm, 2, 0, 3, 4);
  Problem p = RandomProblem(c, 13);
  Result<float> r = RunKernel<float>(p);
  for (float v : r.output) EXPECT_EQ(v, 0.0f);
  const std::vector<float> h0 = Cast<float>(p.initial_h), c0 = Cast<float>(p.initial_c);
  EXPECT_TRUE(BitEqual(r.final_h.data(), h0.data(), h0.size()));
  EXPECT_TRUE(BitEqual(r.final_c.data(), c0.data(), c0.size()));
  // B = 0: nothing to do, nothing touched.
  c = Config(RnnCell::kGru, 0, 5, 3, 4);
  r = RunKernel<float>(RandomProblem(c, 14));
  EXPECT_TRUE(r.output.empty());
  // F = 0: x@W = 0, the recurrence still runs on h@U + b.
  for (const MaskedRnnConfig& v : AllVariants(2, 4, 0, 3)) {
    const Problem q = RandomProblem(v, 15);
    ExpectNear(RunKernel<float>(q).output, RunReference(q).output, 2e-5, Describe(v));
  }
}

TEST(MaskedRnnCpu, NullMaskAndNullInitialStateMeanAllKeptAndZeros) {
  MaskedRnnConfig c = Config(RnnCell::kLstm, 3, 4, 2, 5);
  c.return_sequences = true;
  Problem p = RandomProblem(c, 16);
  std::fill(p.mask.begin(), p.mask.end(), 1);
  std::fill(p.initial_h.begin(), p.initial_h.end(), 0.0);
  std::fill(p.initial_c.begin(), p.initial_c.end(), 0.0);
  const Result<float> want = RunKernel<float>(p);
  const std::vector<float> x = Cast<float>(p.x), k = Cast<float>(p.kernel),
                           rk = Cast<float>(p.recurrent_kernel), bias = Cast<float>(p.bias);
  std::vector<float> out(want.output.size()), h1(want.final_h.size()), c1(h1.size());
  MaskedRnnArgs<float, bool> args;
  args.x = x.data();
  args.kernel = k.data();
  args.recurrent_kernel = rk.data();
  args.bias = bias.data();
  args.output = out.data();
  args.final_h = h1.data();
  args.final_c = c1.data();
  ASSERT_EQ(MaskedRnnCpu(c, args), nullptr);
  EXPECT_TRUE(BitEqual(out.data(), want.output.data(), out.size()));
  EXPECT_TRUE(BitEqual(c1.data(), want.final_c.data(), c1.size()));
}

TEST(MaskedRnnCpu, InvalidConfigIsRejectedBeforeRunning) {
  MaskedRnnConfig c = Config(RnnCell::kLstm, 1, 1, 1, 0);
  MaskedRnnArgs<float, bool> args;  // all null: must not be touched
  const char* error = MaskedRnnCpu(c, args);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("units"), std::string::npos) << error;
  c.units = 4;
  c.activation = static_cast<Activation>(42);
  EXPECT_NE(MaskedRnnCpu(c, args), nullptr);
}

// ---------------------------------------------------------------------------
// The float activations (Eigen's approximations, as TF's CPU kernels).

TEST(TfCpuActivations, CloseToExactAndSaturateLikeEigen) {
  for (double v = -20.0; v <= 20.0; v += 0.001) {
    const float x = static_cast<float>(v);
    EXPECT_NEAR(TfCpuTanh(x), std::tanh(static_cast<double>(x)), 4e-7) << x;
    EXPECT_NEAR(TfCpuSigmoid(x), 1.0 / (1.0 + std::exp(-static_cast<double>(x))), 4e-7) << x;
  }
  EXPECT_EQ(TfCpuTanh(100.f), 1.0f);
  EXPECT_EQ(TfCpuTanh(-100.f), -1.0f);
  EXPECT_EQ(TfCpuTanh(1e-5f), 1e-5f) << "tanh(x) = x near 0";
  EXPECT_EQ(TfCpuSigmoid(-200.f), 0.0f);
  EXPECT_EQ(TfCpuSigmoid(200.f), 1.0f);
  EXPECT_EQ(TfCpuSigmoid(0.f), 0.5f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(TfCpuTanh(nan)));
  EXPECT_TRUE(std::isnan(TfCpuSigmoid(nan)));
}

}  // namespace
}  // namespace tftrt_masking
