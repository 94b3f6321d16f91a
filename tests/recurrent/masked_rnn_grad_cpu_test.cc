// The TF-free CPU gradient (kernels/rnn/masked_rnn_grad_cpu.h) against central
// differences of the CPU forward (masked_rnn_cpu.h) in double, and its errors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/rnn/masked_rnn.h"
#include "kernels/rnn/masked_rnn_cpu.h"
#include "kernels/rnn/masked_rnn_grad.h"
#include "kernels/rnn/masked_rnn_grad_cpu.h"

namespace tftrt_masking {
namespace {

struct Case {
  RnnCell cell;
  bool reset_after;
  bool go_backwards;
  bool return_sequences;
  bool zero_output_for_mask;
};

class MaskedRnnGradCpuTest : public ::testing::TestWithParam<Case> {};

TEST_P(MaskedRnnGradCpuTest, MatchesCentralDifferences) {
  const Case c = GetParam();
  MaskedRnnConfig config;
  config.cell = c.cell;
  config.reset_after = c.cell == RnnCell::kGru && c.reset_after;
  config.batch = 3;
  config.time = 5;
  config.input_size = 2;
  config.units = 3;
  config.go_backwards = c.go_backwards;
  config.return_sequences = c.return_sequences;
  config.zero_output_for_mask = c.zero_output_for_mask;
  const bool lstm = c.cell == RnnCell::kLstm;
  const int64_t b = config.batch, t = config.time, f = config.input_size, u = config.units;
  const int64_t width = GateCount(c.cell) * u;
  const int64_t out_size = (c.return_sequences ? t : 1) * b * u;

  std::mt19937 gen(static_cast<uint32_t>(c.cell) * 16 + c.go_backwards * 8 +
                   c.return_sequences * 4 + c.zero_output_for_mask * 2 + c.reset_after);
  std::normal_distribution<double> normal(0.0, 0.7);
  auto draw = [&](int64_t n) {
    std::vector<double> v(n);
    for (double& e : v) e = normal(gen);
    return v;
  };
  // The inputs that have gradients, one after another in `params`.
  const int64_t sizes[] = {b * t * f, f * width, u * width, BiasSize(config), b * u, lstm ? b * u : 0};
  std::vector<double> params;
  for (int64_t n : sizes) {
    const auto v = draw(n);
    params.insert(params.end(), v.begin(), v.end());
  }
  std::vector<bool> keep_bits = {true, false, true, true, false,  false, true, false, true, true,
                                 false, false, false, false, false};  // row 2 fully masked
  const auto w_out = draw(out_size), w_h = draw(b * u), w_c = draw(b * u);

  auto pointers = [&](const std::vector<double>& p, MaskedRnnArgs<double, bool>* args,
                      const bool* mask) {
    const double* at = p.data();
    const double** fields[] = {&args->x,    &args->kernel,    &args->recurrent_kernel,
                               &args->bias, &args->initial_h, &args->initial_c};
    for (int i = 0; i < 6; ++i) {
      *fields[i] = sizes[i] > 0 ? at : nullptr;
      at += sizes[i];
    }
    args->mask = mask;
  };
  bool mask[15];
  for (int i = 0; i < 15; ++i) mask[i] = keep_bits[i];
  auto loss = [&](const std::vector<double>& p) {
    MaskedRnnArgs<double, bool> args;
    pointers(p, &args, mask);
    std::vector<double> out(out_size), h(b * u), cs(b * u);
    args.output = out.data();
    args.final_h = h.data();
    args.final_c = lstm ? cs.data() : nullptr;
    EXPECT_EQ(MaskedRnnCpu(config, args), nullptr);
    double total = 0;
    for (int64_t i = 0; i < out_size; ++i) total += w_out[i] * out[i];
    for (int64_t i = 0; i < b * u; ++i) total += w_h[i] * h[i] + (lstm ? w_c[i] * cs[i] : 0.0);
    return total;
  };

  MaskedRnnGradArgs<double, bool> grad;
  pointers(params, &grad.forward, mask);
  grad.d_output = w_out.data();
  grad.d_final_h = w_h.data();
  grad.d_final_c = lstm ? w_c.data() : nullptr;
  std::vector<double> analytic(params.size());
  double* at = analytic.data();
  double** outs[] = {&grad.d_x, &grad.d_kernel, &grad.d_recurrent_kernel,
                     &grad.d_bias, &grad.d_initial_h, &grad.d_initial_c};
  for (int i = 0; i < 6; ++i) {
    *outs[i] = sizes[i] > 0 ? at : nullptr;
    at += sizes[i];
  }
  ASSERT_EQ(MaskedRnnGradCpu(config, grad), nullptr);

  const double eps = 1e-6;
  for (size_t i = 0; i < params.size(); ++i) {
    auto plus = params, minus = params;
    plus[i] += eps;
    minus[i] -= eps;
    const double numeric = (loss(plus) - loss(minus)) / (2 * eps);
    EXPECT_NEAR(analytic[i], numeric, 1e-6 * (1 + std::fabs(numeric))) << "parameter " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cells, MaskedRnnGradCpuTest,
    ::testing::Values(Case{RnnCell::kLstm, false, false, true, false},
                      Case{RnnCell::kLstm, false, true, false, true},
                      Case{RnnCell::kGru, true, false, true, true},
                      Case{RnnCell::kGru, true, true, false, false},
                      Case{RnnCell::kGru, false, false, true, false},
                      Case{RnnCell::kGru, false, true, true, true},
                      Case{RnnCell::kSimpleRnn, false, false, false, false},
                      Case{RnnCell::kSimpleRnn, false, true, true, true}));

TEST(MaskedRnnGradCpu, NamesMissingPointers) {
  MaskedRnnConfig config;
  config.cell = RnnCell::kGru;
  config.batch = 1;
  config.time = 1;
  config.input_size = 1;
  config.units = 1;
  std::vector<double> zeros(16, 0.0);
  MaskedRnnGradArgs<double, bool> grad;
  grad.forward.x = grad.forward.kernel = grad.forward.recurrent_kernel = zeros.data();
  grad.forward.bias = zeros.data();
  const char* error = MaskedRnnGradCpu(config, grad);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("outgoing gradient"), std::string::npos) << error;
  config.units = 0;
  EXPECT_NE(MaskedRnnGradCpu(config, grad), nullptr);  // the config's own validation
}

}  // namespace
}  // namespace tftrt_masking
