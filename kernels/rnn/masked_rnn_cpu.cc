// CPU masked recurrence (see masked_rnn_cpu.h for the numerics contract).
//
// Hot loops are leaf functions compiled for generic x86-64 and for AVX2 + FMA
// (plus an AVX-512 float GEMM), picked once at run time from the CPU's
// features. Every dot product uses fused multiply-adds explicitly and the build
// disables contraction (-ffp-contract=off), so all builds produce the same
// bits: std::fma is exact on any machine, only slower without FMA hardware.
#include "kernels/rnn/masked_rnn_cpu.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/rnn/cell_math.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define TFTRT_HAVE_AVX2_FMA_BUILD 1
#define TFTRT_TARGET_AVX2_FMA __attribute__((target("avx2,fma")))
#define TFTRT_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif
#define TFTRT_ALWAYS_INLINE inline __attribute__((always_inline))

namespace tftrt_masking {
namespace {

// ---------------------------------------------------------------------------
// Activations. float: Eigen's packet algorithms as TF's CPU kernels run them
// (AVX build, so pmadd is a multiply then an add); double: std:: functions.
// Eigen's float tanh changed between the TensorFlow releases this builds
// against: configure.py reads which one TensorFlow's Eigen has and the build
// defines TFTRT_MASKING_EIGEN_TANH_RMINIMAX for the newer one.

#if defined(TFTRT_MASKING_EIGEN_TANH_RMINIMAX)
// Eigen's [9,8] rminimax rational (ptanh_float in newer Eigen, e.g. TF 2.21's):
// no small-argument branch, clamped where the rational reaches exactly 1.
TFTRT_ALWAYS_INLINE float EigenTanh(float a) {
  const float clamp = 7.90738964080810547f;  // non-FMA build
  // Selects written so that NaN passes through and the loop vectorizes.
  float x = a > clamp ? clamp : a;
  x = x < -clamp ? -clamp : x;
  const float x2 = x * x;
  const float x3 = x2 * x;
  // ppolevl: Horner from the highest coefficient, one multiply then add per step.
  float p = 1.394553628e-8f * x2 + 2.102733560e-5f;
  p = p * x2 + 3.520756727e-3f;
  p = p * x2 + 1.340216100e-1f;
  float q = 8.015776984e-7f * x2 + 3.326951409e-4f;
  q = q * x2 + 2.597254514e-2f;
  q = q * x2 + 4.673548340e-1f;
  q = q * x2 + 1.0f;
  p = x3 * p + x;  // x * (x^2 p + 1): the numerator's constant term is 1
  return p / q;
}
#else
// Eigen's [13,6] rational (ptanh_float in TensorFlow 2.17's Eigen).
TFTRT_ALWAYS_INLINE float EigenTanh(float a) {
  const float clamp = 7.90531110763549805f;  // where the non-FMA rational hits 1
  // Selects written so that NaN passes through and the loop vectorizes.
  float x = a > clamp ? clamp : a;
  x = x < -clamp ? -clamp : x;
  const float x2 = x * x;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = x2 * p + -8.60467152213735e-11f;
  p = x2 * p + 5.12229709037114e-08f;
  p = x2 * p + 1.48572235717979e-05f;
  p = x2 * p + 6.37261928875436e-04f;
  p = x2 * p + 4.89352455891786e-03f;
  p = x * p;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = x2 * q + 2.26843463243900e-03f;
  q = x2 * q + 4.89352518554385e-03f;
  const float ratio = p / q;  // computed unconditionally: no trapping branch
  const float tiny = 0.0004f;
  return std::fabs(a) < tiny ? x : ratio;
}
#endif  // TFTRT_MASKING_EIGEN_TANH_RMINIMAX

TFTRT_ALWAYS_INLINE float EigenSigmoid(float a) {
  const bool underflow = a < -104.f;
  float x = a > 16.6355324f ? 16.6355324f : a;  // first point where the result is exactly 1
  x = x * 0.5f;                        // exp(x) = exp(x/2)^2 avoids denormals
  const float m = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = m * -0.693359375f + x;
  r = m * 2.12194440e-4f + r;
  const float r2 = r * r;
  const float p_even = r2 * 4.1898667812347412109375e-2f + 0.49999141693115234375f;
  const float p_odd = r2 * 8.33471305668354034423828125e-3f + 0.16666877269744873046875f;
  const float p_low = r + 1.0f;
  float p = r * p_odd + p_even;
  p = r2 * p + p_low;
  // 2^m through the exponent bits, biased exponent clamped to [0, 255]
  // (written so that NaN gives 0 and the NaN propagates through p).
  float biased = m + 127.f;
  biased = biased > 0.f ? biased : 0.f;
  biased = biased < 255.f ? biased : 255.f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(biased)) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  float e = p * scale;
  e = e * e;
  const float logistic = e / (1.0f + e);
  return underflow ? 0.f : logistic;
}

template <typename Acc>
TFTRT_ALWAYS_INLINE void ApplyActivation(Activation activation, Acc* v, int64_t n) {
  if constexpr (std::is_same<Acc, float>::value) {
    if (activation == Activation::kTanh) {
      for (int64_t i = 0; i < n; ++i) v[i] = EigenTanh(v[i]);
      return;
    }
    if (activation == Activation::kSigmoid) {
      for (int64_t i = 0; i < n; ++i) v[i] = EigenSigmoid(v[i]);
      return;
    }
  }
  switch (activation) {
    case Activation::kTanh:
      for (int64_t i = 0; i < n; ++i) v[i] = std::tanh(v[i]);
      return;
    case Activation::kSigmoid:
      for (int64_t i = 0; i < n; ++i) v[i] = Acc(1) / (Acc(1) + std::exp(-v[i]));
      return;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) v[i] = v[i] > Acc(0) ? v[i] : Acc(0);
      return;
    case Activation::kLinear:
      return;
    case Activation::kHardSigmoid:  // Keras 3: relu6(x + 3) / 6
      for (int64_t i = 0; i < n; ++i) v[i] = Clamp(v[i] + Acc(3), Acc(0), Acc(6)) / Acc(6);
      return;
    case Activation::kHardSigmoidKeras2:  // tf_keras: clip(0.2 x + 0.5, 0, 1)
      for (int64_t i = 0; i < n; ++i) v[i] = Clamp(Acc(0.2) * v[i] + Acc(0.5), Acc(0), Acc(1));
      return;
  }
}

// ---------------------------------------------------------------------------
// c[i, n] = sum_k a_rows[i][k] * b[k, n] (+ bias[n] afterwards), summed in k
// order by fused multiply-adds from 0. Columns are blocked so that a slice of
// b stays in cache across the rows.

template <typename Acc>
TFTRT_ALWAYS_INLINE void GemmRowsImpl(const Acc* const* a_rows, int64_t m, int64_t depth,
                                      const Acc* b, int64_t ldb, int64_t n_cols, const Acc* bias,
                                      Acc* c) {
  constexpr int64_t kColBlock = 128;
  for (int64_t n0 = 0; n0 < n_cols; n0 += kColBlock) {
    const int64_t nb = std::min(kColBlock, n_cols - n0);
    int64_t i = 0;
    // Two rows at a time share each load of b.
    for (; i + 2 <= m; i += 2) {
      const Acc* a0 = a_rows[i];
      const Acc* a1 = a_rows[i + 1];
      Acc* c0 = c + i * n_cols + n0;
      Acc* c1 = c0 + n_cols;
      for (int64_t n = 0; n < nb; ++n) c0[n] = c1[n] = Acc(0);
      for (int64_t k = 0; k < depth; ++k) {
        const Acc* bk = b + k * ldb + n0;
        const Acc s0 = a0[k], s1 = a1[k];
        for (int64_t n = 0; n < nb; ++n) {
          c0[n] = std::fma(s0, bk[n], c0[n]);
          c1[n] = std::fma(s1, bk[n], c1[n]);
        }
      }
    }
    for (; i < m; ++i) {
      const Acc* a0 = a_rows[i];
      Acc* c0 = c + i * n_cols + n0;
      for (int64_t n = 0; n < nb; ++n) c0[n] = Acc(0);
      for (int64_t k = 0; k < depth; ++k) {
        const Acc* bk = b + k * ldb + n0;
        const Acc s0 = a0[k];
        for (int64_t n = 0; n < nb; ++n) c0[n] = std::fma(s0, bk[n], c0[n]);
      }
    }
  }
  if (bias != nullptr) {
    for (int64_t i = 0; i < m; ++i) {
      Acc* ci = c + i * n_cols;
      for (int64_t n = 0; n < n_cols; ++n) ci[n] = ci[n] + bias[n];
    }
  }
}

#ifdef TFTRT_HAVE_AVX2_FMA_BUILD
// float GemmRows for AVX2 + FMA: register tiles of MR rows x 8*NV columns; per
// output element still one fused multiply-add per k in k order from 0, so the
// bits equal GemmRowsImpl's.
template <int MR, int NV>
TFTRT_TARGET_AVX2_FMA TFTRT_ALWAYS_INLINE void GemmTileAvx2(const float* const* a,
                                                              int64_t depth, const float* b,
                                                              int64_t ldb, float* c,
                                                              int64_t ldc) {
  __m256 acc[MR][NV];
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < depth; ++k) {
    __m256 bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + k * ldb + 8 * v);
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(a[r] + k);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(c + r * ldc + 8 * v, acc[r][v]);
  }
}

template <int NV>
TFTRT_TARGET_AVX2_FMA TFTRT_ALWAYS_INLINE void GemmColumnBlockAvx2(
    const float* const* a_rows, int64_t m, int64_t depth, const float* b, int64_t ldb,
    float* c, int64_t ldc) {
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) GemmTileAvx2<6, NV>(a_rows + i, depth, b, ldb, c + i * ldc, ldc);
  float* ci = c + i * ldc;
  switch (m - i) {
    case 5: GemmTileAvx2<5, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 4: GemmTileAvx2<4, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 3: GemmTileAvx2<3, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 2: GemmTileAvx2<2, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 1: GemmTileAvx2<1, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    default: break;
  }
}

TFTRT_TARGET_AVX2_FMA void GemmRowsAvx2(const float* const* a_rows, int64_t m, int64_t depth,
                                        const float* b, int64_t ldb, int64_t n_cols,
                                        const float* bias, float* c) {
  int64_t n0 = 0;
  for (; n0 + 16 <= n_cols; n0 += 16) {
    GemmColumnBlockAvx2<2>(a_rows, m, depth, b + n0, ldb, c + n0, n_cols);
  }
  for (; n0 + 8 <= n_cols; n0 += 8) {
    GemmColumnBlockAvx2<1>(a_rows, m, depth, b + n0, ldb, c + n0, n_cols);
  }
  for (; n0 < n_cols; ++n0) {  // fewer than 8 columns left
    for (int64_t i = 0; i < m; ++i) {
      float sum = 0.f;
      for (int64_t k = 0; k < depth; ++k) sum = std::fma(a_rows[i][k], b[k * ldb + n0], sum);
      c[i * n_cols + n0] = sum;
    }
  }
  if (bias != nullptr) {
    for (int64_t i = 0; i < m; ++i) {
      float* ci = c + i * n_cols;
      for (int64_t n = 0; n < n_cols; ++n) ci[n] = ci[n] + bias[n];
    }
  }
}

// The same product with AVX-512 register tiles (8 rows x 16*NV columns), for
// CPUs that have it; same bits again.
template <int MR, int NV>
TFTRT_TARGET_AVX512 TFTRT_ALWAYS_INLINE void GemmTileAvx512(const float* const* a,
                                                            int64_t depth, const float* b,
                                                            int64_t ldb, float* c,
                                                            int64_t ldc) {
  __m512 acc[MR][NV];
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < depth; ++k) {
    __m512 bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + k * ldb + 16 * v);
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r][k]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + 16 * v, acc[r][v]);
  }
}

template <int NV>
TFTRT_TARGET_AVX512 TFTRT_ALWAYS_INLINE void GemmColumnBlockAvx512(
    const float* const* a_rows, int64_t m, int64_t depth, const float* b, int64_t ldb,
    float* c, int64_t ldc) {
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) GemmTileAvx512<8, NV>(a_rows + i, depth, b, ldb, c + i * ldc, ldc);
  float* ci = c + i * ldc;
  switch (m - i) {
    case 7: GemmTileAvx512<7, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 6: GemmTileAvx512<6, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 5: GemmTileAvx512<5, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 4: GemmTileAvx512<4, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 3: GemmTileAvx512<3, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 2: GemmTileAvx512<2, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    case 1: GemmTileAvx512<1, NV>(a_rows + i, depth, b, ldb, ci, ldc); break;
    default: break;
  }
}

TFTRT_TARGET_AVX512 void GemmRowsAvx512(const float* const* a_rows, int64_t m, int64_t depth,
                                        const float* b, int64_t ldb, int64_t n_cols,
                                        const float* bias, float* c) {
  int64_t n0 = 0;
  for (; n0 + 32 <= n_cols; n0 += 32) {
    GemmColumnBlockAvx512<2>(a_rows, m, depth, b + n0, ldb, c + n0, n_cols);
  }
  for (; n0 + 16 <= n_cols; n0 += 16) {
    GemmColumnBlockAvx512<1>(a_rows, m, depth, b + n0, ldb, c + n0, n_cols);
  }
  if (n0 < n_cols) {  // the last < 16 columns: the AVX2 path, columns offset by n0
    std::vector<float> tail(m * (n_cols - n0));
    GemmRowsAvx2(a_rows, m, depth, b + n0, ldb, n_cols - n0, nullptr, tail.data());
    for (int64_t i = 0; i < m; ++i) {
      std::copy_n(tail.data() + i * (n_cols - n0), n_cols - n0, c + i * n_cols + n0);
    }
  }
  if (bias != nullptr) {
    for (int64_t i = 0; i < m; ++i) {
      float* ci = c + i * n_cols;
      for (int64_t n = 0; n < n_cols; ++n) ci[n] = ci[n] + bias[n];
    }
  }
}
#endif  // TFTRT_HAVE_AVX2_FMA_BUILD

// ---------------------------------------------------------------------------
// Cell updates of one row, op by op as Keras writes them. `projected` is
// x_t @ W (plus the input bias where Keras adds it there), `recurrent` is
// h @ U. They overwrite h (and c) with the new state; `z` is scratch.

struct CellActivations {
  Activation activation;
  Activation recurrent_activation;
};

// z = x@W + h@U; z += b; i,f,g,o; c = f*c + i*g; h = o*act(c).
template <typename Acc>
TFTRT_ALWAYS_INLINE void LstmUpdateImpl(const Acc* projected, const Acc* recurrent,
                                        const Acc* bias, int64_t units, CellActivations acts,
                                        Acc* h, Acc* c, Acc* z) {
  const int64_t width = 4 * units;
  for (int64_t n = 0; n < width; ++n) z[n] = projected[n] + recurrent[n];
  if (bias != nullptr) {
    for (int64_t n = 0; n < width; ++n) z[n] = z[n] + bias[n];
  }
  Acc* i_gate = z;
  Acc* f_gate = z + units;
  Acc* g_gate = z + 2 * units;
  Acc* o_gate = z + 3 * units;
  ApplyActivation(acts.recurrent_activation, i_gate, units);
  ApplyActivation(acts.recurrent_activation, f_gate, units);
  ApplyActivation(acts.activation, g_gate, units);
  ApplyActivation(acts.recurrent_activation, o_gate, units);
  for (int64_t n = 0; n < units; ++n) c[n] = f_gate[n] * c[n] + i_gate[n] * g_gate[n];
  for (int64_t n = 0; n < units; ++n) h[n] = c[n];
  ApplyActivation(acts.activation, h, units);
  for (int64_t n = 0; n < units; ++n) h[n] = o_gate[n] * h[n];
}

// reset_after: mi = h@U + b_rec; z = ra(mx_z + mi_z); r = ra(mx_r + mi_r);
// hh = act(mx_h + r * mi_h); h = z*h + (1-z)*hh.
template <typename Acc>
TFTRT_ALWAYS_INLINE void GruResetAfterUpdateImpl(const Acc* projected, const Acc* recurrent,
                                                 const Acc* recurrent_bias, int64_t units,
                                                 CellActivations acts, Acc* h, Acc* z) {
  const int64_t width = 3 * units;
  for (int64_t n = 0; n < width; ++n) z[n] = recurrent[n];
  if (recurrent_bias != nullptr) {
    for (int64_t n = 0; n < width; ++n) z[n] = z[n] + recurrent_bias[n];
  }
  Acc* update = z;
  Acc* reset = z + units;
  Acc* candidate = z + 2 * units;
  for (int64_t n = 0; n < 2 * units; ++n) z[n] = projected[n] + z[n];
  ApplyActivation(acts.recurrent_activation, update, units);
  ApplyActivation(acts.recurrent_activation, reset, units);
  for (int64_t n = 0; n < units; ++n) {
    candidate[n] = projected[2 * units + n] + reset[n] * candidate[n];
  }
  ApplyActivation(acts.activation, candidate, units);
  for (int64_t n = 0; n < units; ++n) {
    h[n] = update[n] * h[n] + (Acc(1) - update[n]) * candidate[n];
  }
}

// reset_before, first half: z and r from mi = h @ U[:, :2U] (recurrent),
// and r*h for the second product.
template <typename Acc>
TFTRT_ALWAYS_INLINE void GruResetBeforeGatesImpl(const Acc* projected, const Acc* recurrent,
                                                 int64_t units, CellActivations acts,
                                                 const Acc* h, Acc* z, Acc* reset_h) {
  for (int64_t n = 0; n < 2 * units; ++n) z[n] = projected[n] + recurrent[n];
  ApplyActivation(acts.recurrent_activation, z, 2 * units);
  const Acc* reset = z + units;
  for (int64_t n = 0; n < units; ++n) reset_h[n] = reset[n] * h[n];
}

// reset_before, second half: hh = act(mx_h + (r*h) @ U_h); h = z*h + (1-z)*hh.
template <typename Acc>
TFTRT_ALWAYS_INLINE void GruResetBeforeFinishImpl(const Acc* projected,
                                                  const Acc* reset_h_product, int64_t units,
                                                  CellActivations acts, const Acc* update,
                                                  Acc* h, Acc* candidate) {
  for (int64_t n = 0; n < units; ++n) candidate[n] = projected[2 * units + n] + reset_h_product[n];
  ApplyActivation(acts.activation, candidate, units);
  for (int64_t n = 0; n < units; ++n) {
    h[n] = update[n] * h[n] + (Acc(1) - update[n]) * candidate[n];
  }
}

// h = act((x@W + b) + h@U).
template <typename Acc>
TFTRT_ALWAYS_INLINE void SimpleRnnUpdateImpl(const Acc* projected, const Acc* recurrent,
                                             int64_t units, CellActivations acts, Acc* h) {
  for (int64_t n = 0; n < units; ++n) h[n] = projected[n] + recurrent[n];
  ApplyActivation(acts.activation, h, units);
}

// The leaf functions of one element type, as a table of pointers so that the
// loop picks the AVX2 + FMA build or the generic one once per call.
template <typename Acc>
struct CpuLeaves {
  void (*gemm_rows)(const Acc* const*, int64_t, int64_t, const Acc*, int64_t, int64_t,
                    const Acc*, Acc*);
  void (*lstm_update)(const Acc*, const Acc*, const Acc*, int64_t, CellActivations, Acc*, Acc*,
                      Acc*);
  void (*gru_reset_after_update)(const Acc*, const Acc*, const Acc*, int64_t, CellActivations,
                                 Acc*, Acc*);
  void (*gru_reset_before_gates)(const Acc*, const Acc*, int64_t, CellActivations, const Acc*,
                                 Acc*, Acc*);
  void (*gru_reset_before_finish)(const Acc*, const Acc*, int64_t, CellActivations, const Acc*,
                                  Acc*, Acc*);
  void (*simple_rnn_update)(const Acc*, const Acc*, int64_t, CellActivations, Acc*);
  void (*apply_activation)(Activation, Acc*, int64_t);
};

// Instantiates the leaves of type Acc with function attributes ATTR.
#define TFTRT_DEFINE_LEAVES(Acc, ATTR, GEMM)                                                       \
  ATTR void GemmRows(const Acc* const* a_rows, int64_t m, int64_t depth, const Acc* b,       \
                     int64_t ldb, int64_t n_cols, const Acc* bias, Acc* c) {                 \
    GEMM(a_rows, m, depth, b, ldb, n_cols, bias, c);                                         \
  }                                                                                          \
  ATTR void LstmUpdate(const Acc* projected, const Acc* recurrent, const Acc* bias,          \
                       int64_t units, CellActivations acts, Acc* h, Acc* c, Acc* z) {        \
    LstmUpdateImpl(projected, recurrent, bias, units, acts, h, c, z);                        \
  }                                                                                          \
  ATTR void GruResetAfterUpdate(const Acc* projected, const Acc* recurrent,                  \
                                const Acc* recurrent_bias, int64_t units,                    \
                                CellActivations acts, Acc* h, Acc* z) {                      \
    GruResetAfterUpdateImpl(projected, recurrent, recurrent_bias, units, acts, h, z);        \
  }                                                                                          \
  ATTR void GruResetBeforeGates(const Acc* projected, const Acc* recurrent, int64_t units,   \
                                CellActivations acts, const Acc* h, Acc* z, Acc* reset_h) {  \
    GruResetBeforeGatesImpl(projected, recurrent, units, acts, h, z, reset_h);               \
  }                                                                                          \
  ATTR void GruResetBeforeFinish(const Acc* projected, const Acc* reset_h_product,           \
                                 int64_t units, CellActivations acts, const Acc* update,     \
                                 Acc* h, Acc* candidate) {                                   \
    GruResetBeforeFinishImpl(projected, reset_h_product, units, acts, update, h, candidate); \
  }                                                                                          \
  ATTR void SimpleRnnUpdate(const Acc* projected, const Acc* recurrent, int64_t units,       \
                            CellActivations acts, Acc* h) {                                  \
    SimpleRnnUpdateImpl(projected, recurrent, units, acts, h);                               \
  }                                                                                          \
  ATTR void ApplyActivationLeaf(Activation activation, Acc* v, int64_t n) {                  \
    ApplyActivation(activation, v, n);                                                       \
  }                                                                                          \
  const CpuLeaves<Acc> kLeaves_##Acc = {GemmRows,             LstmUpdate,                    \
                                        GruResetAfterUpdate,  GruResetBeforeGates,           \
                                        GruResetBeforeFinish, SimpleRnnUpdate,               \
                                        ApplyActivationLeaf};

namespace generic {
TFTRT_DEFINE_LEAVES(float, , GemmRowsImpl)
TFTRT_DEFINE_LEAVES(double, , GemmRowsImpl)
}  // namespace generic

#ifdef TFTRT_HAVE_AVX2_FMA_BUILD
namespace avx2_fma {
TFTRT_DEFINE_LEAVES(float, TFTRT_TARGET_AVX2_FMA, GemmRowsAvx2)
TFTRT_DEFINE_LEAVES(double, TFTRT_TARGET_AVX2_FMA, GemmRowsImpl)
}  // namespace avx2_fma

// AVX-512: only the float GEMM differs from the AVX2 + FMA table.
const CpuLeaves<float> kLeavesAvx512Float = {
    GemmRowsAvx512, avx2_fma::LstmUpdate, avx2_fma::GruResetAfterUpdate,
    avx2_fma::GruResetBeforeGates, avx2_fma::GruResetBeforeFinish, avx2_fma::SimpleRnnUpdate,
    avx2_fma::ApplyActivationLeaf};
#endif
#undef TFTRT_DEFINE_LEAVES

// 0 = generic, 1 = AVX2 + FMA, 2 = AVX-512 (+ AVX2 + FMA).
int CpuLevel() {
#ifdef TFTRT_HAVE_AVX2_FMA_BUILD
  static const int level = [] {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return __builtin_cpu_supports("avx512f") ? 2 : 1;
  }();
  const int forced = cpu_internal::ForcedCpuLevelForTesting();
  return forced >= 0 ? std::min(forced, level) : level;
#else
  return 0;
#endif
}

bool UseAvx2Fma() {
#ifdef TFTRT_HAVE_AVX2_FMA_BUILD
  return CpuLevel() >= 1;
#else
  return false;
#endif
}

template <typename Acc>
const CpuLeaves<Acc>& Leaves();
template <>
const CpuLeaves<float>& Leaves<float>() {
#ifdef TFTRT_HAVE_AVX2_FMA_BUILD
  const int level = CpuLevel();
  if (level >= 2) return kLeavesAvx512Float;
  if (level == 1) return avx2_fma::kLeaves_float;
#endif
  return generic::kLeaves_float;
}
template <>
const CpuLeaves<double>& Leaves<double>() {
#ifdef TFTRT_HAVE_AVX2_FMA_BUILD
  if (UseAvx2Fma()) return avx2_fma::kLeaves_double;
#endif
  return generic::kLeaves_double;
}

// ---------------------------------------------------------------------------
// The masked loop over one block of rows.

// Rows processed together: the recurrent product of a step is one GemmRows
// call over the kept rows of the group.
constexpr int64_t kRowGroup = 32;
// Elements of projected inputs buffered per group (4 MiB of float).
constexpr int64_t kProjectionBudget = int64_t{1} << 20;

template <typename Acc>
void RunBlock(const MaskedRnnConfig& config, const CpuRnnWeights<Acc>& weights,
              const CpuRowsBlock<Acc>& block) {
  const int64_t steps = config.time, features = config.input_size, units = config.units;
  const int64_t width = GateCount(config.cell) * units;  // G*U
  const bool lstm = config.cell == RnnCell::kLstm;
  const bool gru = config.cell == RnnCell::kGru;
  const bool gru_reset_before = gru && !config.reset_after;
  const CellActivations acts{config.activation, config.recurrent_activation};
  // Where Keras adds the input bias to x@W before anything else, it is folded
  // into the projection; LSTM adds it last (z = x@W + h@U; z += b).
  const Acc* projection_bias = lstm ? nullptr : weights.input_bias;
  const CpuLeaves<Acc>& leaf = Leaves<Acc>();
  // Columns of h@U computed by the first recurrent product.
  const int64_t recurrent_cols = gru_reset_before ? 2 * units : width;

  for (int64_t g0 = 0; g0 < block.rows; g0 += kRowGroup) {
    const int64_t rows = std::min(kRowGroup, block.rows - g0);
    std::vector<Acc> h(rows * units, Acc(0)), c(lstm ? rows * units : 0, Acc(0));
    std::vector<Acc> last_output(rows * units, Acc(0));  // y_{tau-1}, y_{-1} = 0
    if (block.initial_h != nullptr) {
      std::copy_n(block.initial_h + g0 * units, rows * units, h.begin());
    }
    if (lstm && block.initial_c != nullptr) {
      std::copy_n(block.initial_c + g0 * units, rows * units, c.begin());
    }
    const int64_t time_block =
        std::max<int64_t>(1, std::min<int64_t>(steps, kProjectionBudget / (rows * width + 1)));
    std::vector<Acc> projected(rows * time_block * width);
    std::vector<int64_t> projected_slot(rows * time_block);
    std::vector<const Acc*> a_rows(std::max(rows * time_block, rows));
    std::vector<int64_t> active(rows);
    std::vector<Acc> recurrent(rows * width), scratch(rows * width), reset_h(rows * units),
        reset_h_product(rows * units);

    auto kept = [&](int64_t row, int64_t t) {
      return block.keep == nullptr || block.keep[(g0 + row) * steps + t] != 0;
    };
    for (int64_t tau0 = 0; tau0 < steps; tau0 += time_block) {
      const int64_t block_steps = std::min(time_block, steps - tau0);
      // One product for the kept (row, step) pairs of this time block.
      int64_t m = 0;
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t s = 0; s < block_steps; ++s) {
          const int64_t tau = tau0 + s;
          const int64_t t = config.go_backwards ? steps - 1 - tau : tau;
          if (!kept(row, t)) {
            projected_slot[row * time_block + s] = -1;
            continue;
          }
          a_rows[m] = block.x + ((g0 + row) * steps + t) * features;
          projected_slot[row * time_block + s] = m++;
        }
      }
      leaf.gemm_rows(a_rows.data(), m, features, weights.kernel, width, width, projection_bias,
               projected.data());

      for (int64_t s = 0; s < block_steps; ++s) {
        const int64_t tau = tau0 + s;
        int64_t n_active = 0;
        for (int64_t row = 0; row < rows; ++row) {
          if (projected_slot[row * time_block + s] >= 0) {
            active[n_active] = row;
            a_rows[n_active++] = h.data() + row * units;
          }
        }
        leaf.gemm_rows(a_rows.data(), n_active, units, weights.recurrent_kernel, width, recurrent_cols,
                 static_cast<const Acc*>(nullptr), recurrent.data());
        for (int64_t j = 0; j < n_active; ++j) {
          const int64_t row = active[j];
          const Acc* proj = projected.data() + projected_slot[row * time_block + s] * width;
          const Acc* rec = recurrent.data() + j * recurrent_cols;
          Acc* h_row = h.data() + row * units;
          Acc* z = scratch.data() + j * width;
          if (block.recurrent_trace != nullptr) {
            std::copy_n(rec, recurrent_cols,
                        block.recurrent_trace + ((g0 + row) * steps + tau) * width);
          }
          switch (config.cell) {
            case RnnCell::kLstm:
              leaf.lstm_update(proj, rec, weights.input_bias, units, acts, h_row,
                         c.data() + row * units, z);
              break;
            case RnnCell::kGru:
              if (config.reset_after) {
                leaf.gru_reset_after_update(proj, rec, weights.recurrent_bias, units, acts, h_row, z);
              } else {
                leaf.gru_reset_before_gates(proj, rec, units, acts, h_row, z,
                                    reset_h.data() + j * units);
              }
              break;
            case RnnCell::kSimpleRnn:
              leaf.simple_rnn_update(proj, rec, units, acts, h_row);
              break;
          }
        }
        if (gru_reset_before && n_active > 0) {
          for (int64_t j = 0; j < n_active; ++j) a_rows[j] = reset_h.data() + j * units;
          leaf.gemm_rows(a_rows.data(), n_active, units, weights.recurrent_kernel + 2 * units, width,
                   units, static_cast<const Acc*>(nullptr), reset_h_product.data());
          for (int64_t j = 0; j < n_active; ++j) {
            const int64_t row = active[j];
            const Acc* proj = projected.data() + projected_slot[row * time_block + s] * width;
            Acc* z = scratch.data() + j * width;
            if (block.recurrent_trace != nullptr) {
              std::copy_n(reset_h_product.data() + j * units, units,
                          block.recurrent_trace + ((g0 + row) * steps + tau) * width + 2 * units);
            }
            leaf.gru_reset_before_finish(proj, reset_h_product.data() + j * units, units, acts, z,
                                 h.data() + row * units, z + 2 * units);
          }
        }
        // y_tau = kept ? new h : (zero_output_for_mask ? 0 : y_{tau-1}).
        for (int64_t row = 0; row < rows; ++row) {
          const int64_t trace_at = ((g0 + row) * steps + tau) * units;
          if (block.state_trace_h != nullptr) {
            std::copy_n(h.data() + row * units, units, block.state_trace_h + trace_at);
          }
          if (lstm && block.state_trace_c != nullptr) {
            std::copy_n(c.data() + row * units, units, block.state_trace_c + trace_at);
          }
          Acc* y = last_output.data() + row * units;
          if (projected_slot[row * time_block + s] >= 0) {
            std::copy_n(h.data() + row * units, units, y);
          } else if (config.zero_output_for_mask) {
            std::fill_n(y, units, Acc(0));
          }
          if (config.return_sequences) {
            std::copy_n(y, units, block.output + ((g0 + row) * steps + tau) * units);
          }
        }
      }
    }
    if (!config.return_sequences) {
      std::copy_n(last_output.data(), rows * units, block.output + g0 * units);
    }
    if (block.final_h != nullptr) std::copy_n(h.data(), rows * units, block.final_h + g0 * units);
    if (lstm && block.final_c != nullptr) {
      std::copy_n(c.data(), rows * units, block.final_c + g0 * units);
    }
  }
}

}  // namespace

void MaskedRnnCpuBlock(const MaskedRnnConfig& config, const CpuRnnWeights<float>& weights,
                       const CpuRowsBlock<float>& block) {
  RunBlock(config, weights, block);
}

void MaskedRnnCpuBlock(const MaskedRnnConfig& config, const CpuRnnWeights<double>& weights,
                       const CpuRowsBlock<double>& block) {
  RunBlock(config, weights, block);
}

void CpuGemmRows(const float* const* a_rows, int64_t m, int64_t depth, const float* b,
                 int64_t ldb, int64_t n_cols, const float* bias, float* c) {
  Leaves<float>().gemm_rows(a_rows, m, depth, b, ldb, n_cols, bias, c);
}

void CpuGemmRows(const double* const* a_rows, int64_t m, int64_t depth, const double* b,
                 int64_t ldb, int64_t n_cols, const double* bias, double* c) {
  Leaves<double>().gemm_rows(a_rows, m, depth, b, ldb, n_cols, bias, c);
}

void CpuApplyActivation(Activation activation, float* v, int64_t n) {
  Leaves<float>().apply_activation(activation, v, n);
}

void CpuApplyActivation(Activation activation, double* v, int64_t n) {
  Leaves<double>().apply_activation(activation, v, n);
}

int64_t MaskedRnnCpuCostPerRow(const MaskedRnnConfig& config) {
  const int64_t width = GateCount(config.cell) * config.units;
  // One multiply-add per weight per step plus ~40 cycles per activation.
  const int64_t per_step =
      (config.input_size + config.units) * width + 40 * (width + config.units);
  return std::max<int64_t>(1, config.time * per_step);
}

namespace cpu_internal {
int& ForcedCpuLevelForTesting() {
  static int level = -1;
  return level;
}
}  // namespace cpu_internal

int MaskedRnnCpuLevel() { return CpuLevel(); }

float TfCpuTanh(float x) { return EigenTanh(x); }
float TfCpuSigmoid(float x) { return EigenSigmoid(x); }

}  // namespace tftrt_masking
