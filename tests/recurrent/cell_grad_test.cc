// The element-wise cell backward (kernels/rnn/cell_grad.h) against central
// differences of the forward cell math (cell_math.h) in double, and the
// activation derivatives at their kinks against TensorFlow's conventions.
#include <cmath>
#include <algorithm>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "kernels/rnn/cell_grad.h"
#include "kernels/rnn/cell_math.h"

namespace tftrt_masking {
namespace {

constexpr Activation kAll[] = {Activation::kTanh,   Activation::kSigmoid,
                               Activation::kRelu,   Activation::kLinear,
                               Activation::kHardSigmoid, Activation::kHardSigmoidKeras2};

double Numeric(const std::function<double(double)>& f, double x) {
  const double eps = 1e-6;
  return (f(x + eps) - f(x - eps)) / (2 * eps);
}

TEST(ActivationGrad, MatchesCentralDifferencesAwayFromKinks) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<double> dist(-4.0, 4.0);
  for (Activation a : kAll) {
    for (int k = 0; k < 200; ++k) {
      const double x = dist(gen);
      const double numeric = Numeric([&](double v) { return Activate(a, v); }, x);
      EXPECT_NEAR(ActivationGradAt(a, x), numeric, 1e-6) << static_cast<int>(a) << " x=" << x;
    }
  }
}

TEST(ActivationGrad, KinksFollowTensorFlow) {
  EXPECT_EQ(ActivationGradAt(Activation::kRelu, 0.0), 0.0);                    // relu'(0) = 0
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoid, -3.0), 0.0);            // relu6 at 0
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoid, 3.0), 0.0);             // relu6 at 6
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoid, 0.0), 1.0 / 6.0);
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoidKeras2, -2.5), 0.2);      // clip keeps ends
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoidKeras2, 2.5), 0.2);
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoidKeras2, 2.6), 0.0);
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoidKeras2, -2.6), 0.0);
  EXPECT_EQ(ActivationGradAt(Activation::kRelu, 1e-30f), 1.0f);
  EXPECT_EQ(ActivationGradAt(Activation::kHardSigmoid, -2.9999f), 1.0f / 6.0f);
}

// Each cell's loss L = a * h_new (+ b * c_new for LSTM) as a function of the
// inputs the step functions take; the returned gradients must be its partials.
class CellStepGrad : public ::testing::TestWithParam<int> {
 protected:
  std::mt19937 gen{static_cast<uint32_t>(GetParam())};
  double Draw() { return std::uniform_real_distribution<double>(-2.0, 2.0)(gen); }
  // Activations without kinks in reach of the differences.
  Activation act() const { return GetParam() % 2 ? Activation::kTanh : Activation::kLinear; }
  Activation rec() const { return GetParam() % 3 ? Activation::kSigmoid : Activation::kTanh; }
};

TEST_P(CellStepGrad, Lstm) {
  double v[5];  // z_i, z_f, z_g, z_o, c_prev
  for (double& e : v) e = Draw();
  const double a = Draw(), b = Draw();
  auto loss = [&](const double* w) {
    const double i = Activate(rec(), w[0]), f = Activate(rec(), w[1]);
    const double g = Activate(act(), w[2]), o = Activate(rec(), w[3]);
    const double c = f * w[4] + i * g;
    return a * o * Activate(act(), c) + b * c;
  };
  const double c = Activate(rec(), v[1]) * v[4] + Activate(rec(), v[0]) * Activate(act(), v[2]);
  const auto grad = LstmStepGrad(act(), rec(), v[0], v[1], v[2], v[3], v[4], c, a, b);
  const double expected[5] = {grad.d_i, grad.d_f, grad.d_g, grad.d_o, grad.d_c_prev};
  for (int k = 0; k < 5; ++k) {
    auto partial = [&](double e) { double w[5]; std::copy(v, v + 5, w); w[k] = e; return loss(w); };
    EXPECT_NEAR(expected[k], Numeric(partial, v[k]), 1e-6) << k;
  }
}

TEST_P(CellStepGrad, GruResetAfter) {
  double v[6];  // mx_z, mx_r, mx_h, mi_z+mi_r folded into z_z/z_r, mi_h, h_prev
  for (double& e : v) e = Draw();
  const double a = Draw();
  // inputs: z_z, z_r, mx_h, mi_h, h_prev
  auto loss = [&](const double* w) {
    const double z = Activate(rec(), w[0]), r = Activate(rec(), w[1]);
    const double hh = Activate(act(), w[2] + r * w[3]);
    return a * (z * w[4] + (1 - z) * hh);
  };
  const double r = Activate(rec(), v[1]);
  const auto grad = GruResetAfterStepGrad(act(), rec(), v[0], v[1], v[2] + r * v[3], v[3], v[4], a);
  const double expected[5] = {grad.d_z, grad.d_r, grad.d_h_input, grad.d_h_recurrent,
                              grad.d_h_prev_partial};
  for (int k = 0; k < 5; ++k) {
    auto partial = [&](double e) { double w[5]; std::copy(v, v + 5, w); w[k] = e; return loss(w); };
    EXPECT_NEAR(expected[k], Numeric(partial, v[k]), 1e-6) << k;
  }
}

TEST_P(CellStepGrad, GruResetBefore) {
  double v[5];  // z_z, z_r, mx_h, h_prev, u (the scalar U_h)
  for (double& e : v) e = Draw();
  const double a = Draw();
  auto loss = [&](const double* w) {
    const double z = Activate(rec(), w[0]), r = Activate(rec(), w[1]);
    const double hh = Activate(act(), w[2] + r * w[3] * w[4]);
    return a * (z * w[3] + (1 - z) * hh);
  };
  const double r = Activate(rec(), v[1]);
  const double z_h = v[2] + r * v[3] * v[4];
  const auto first = GruResetBeforeStepGrad(act(), rec(), v[0], z_h, v[3], a);
  const auto second = GruResetBeforeResetGrad(rec(), v[1], v[3], first.d_h_input * v[4]);
  const double expected[4] = {first.d_z, second.d_r, first.d_h_input,
                              first.d_h_prev_partial + second.d_h_prev_partial};
  for (int k = 0; k < 4; ++k) {
    auto partial = [&](double e) { double w[5]; std::copy(v, v + 5, w); w[k] = e; return loss(w); };
    EXPECT_NEAR(expected[k], Numeric(partial, v[k]), 1e-6) << k;
  }
}

TEST_P(CellStepGrad, SimpleRnn) {
  const double z = Draw(), a = Draw();
  const double numeric = Numeric([&](double e) { return a * Activate(act(), e); }, z);
  EXPECT_NEAR(SimpleRnnStepGrad(act(), z, a), numeric, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CellStepGrad, ::testing::Range(0, 12));

}  // namespace
}  // namespace tftrt_masking
