// The bitwise row test of the GPU Masking kernels (kernels/masking/bit_compare.h)
// against IEEE comparison of decoded values: every fp16 and bf16 bit pattern,
// random and special fp32 / fp64 patterns, each mask value in every slot.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/masking/bit_compare.h"

namespace tftrt_masking {
namespace {

double DecodeHalf(uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0x1f) {
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}
double DecodeBfloat16(uint16_t bits) {
  const uint32_t wide = uint32_t{bits} << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}
double DecodeFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
double DecodeDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

// A 16-byte vector of `m` with `x` in slot `slot`, tested against m.
template <typename Bits>
bool VectorDiffers(Bits x, Bits m, int slot, bool m_is_nan) {
  constexpr int kElements = 16 / sizeof(Bits);
  Bits elements[kElements];
  for (int e = 0; e < kElements; ++e) elements[e] = e == slot % kElements ? x : m;
  uint32_t w[4];
  std::memcpy(w, elements, 16);
  const MaskValuePattern pattern = MakeMaskValuePattern(m, sizeof(Bits), m_is_nan);
  return AnyElementDiffers(w[0], w[1], w[2], w[3], pattern);
}

template <typename Bits, typename Decode>
void CheckPairs(const std::vector<Bits>& masks, const std::vector<Bits>& xs, Decode decode,
                const char* type) {
  int slot = 0;
  for (Bits m : masks) {
    const double mv = decode(m);
    const bool m_is_nan = std::isnan(mv);
    // All elements m: equal, unless m is NaN.
    ASSERT_EQ(VectorDiffers<Bits>(m, m, 0, m_is_nan), m_is_nan) << type << " m bits " << +m;
    for (Bits x : xs) {
      const bool want = decode(x) != mv;  // IEEE: NaN differs, +0 == -0
      ASSERT_EQ(VectorDiffers<Bits>(x, m, slot++, m_is_nan), want)
          << type << " x bits " << +x << " m bits " << +m;
    }
  }
}

template <typename Bits>
std::vector<Bits> Specials(std::vector<Bits> base, uint32_t seed, int random_count) {
  std::mt19937_64 gen(seed);
  std::vector<Bits> out = base;
  for (Bits b : base) {  // neighbours and negations of each special
    out.push_back(static_cast<Bits>(b + 1));
    out.push_back(static_cast<Bits>(b - 1));
    out.push_back(static_cast<Bits>(b ^ (Bits{1} << (8 * sizeof(Bits) - 1))));
  }
  for (int i = 0; i < random_count; ++i) out.push_back(static_cast<Bits>(gen()));
  return out;
}

std::vector<uint16_t> AllSixteenBitPatterns() {
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  return all;
}

TEST(BitCompare, EveryHalfPattern) {
  // 0, -0, 1, -1, inf, -inf, quiet and signalling NaN, smallest subnormal, largest finite.
  const std::vector<uint16_t> masks = Specials<uint16_t>(
      {0x0000, 0x8000, 0x3c00, 0xbc00, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0x0001, 0x7bff}, 1, 8);
  CheckPairs<uint16_t>(masks, AllSixteenBitPatterns(), DecodeHalf, "float16");
}

TEST(BitCompare, EveryBfloat16Pattern) {
  const std::vector<uint16_t> masks = Specials<uint16_t>(
      {0x0000, 0x8000, 0x3f80, 0xbf80, 0x7f80, 0xff80, 0x7fc0, 0x7f81, 0x0001, 0x7f7f}, 2, 8);
  CheckPairs<uint16_t>(masks, AllSixteenBitPatterns(), DecodeBfloat16, "bfloat16");
}

TEST(BitCompare, FloatPatterns) {
  const std::vector<uint32_t> specials = {0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u,
                                          0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u,
                                          0x00000001u, 0x7f7fffffu};
  const std::vector<uint32_t> masks = Specials<uint32_t>(specials, 3, 8);
  std::vector<uint32_t> xs = Specials<uint32_t>(masks, 4, 20000);
  CheckPairs<uint32_t>(masks, xs, DecodeFloat, "float32");
}

TEST(BitCompare, DoublePatterns) {
  const std::vector<uint64_t> specials = {
      0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
      0xbff0000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
      0x7ff8000000000000ull, 0x7ff0000000000001ull, 0x0000000000000001ull,
      0x7fefffffffffffffull, 0x0000000100000000ull};  // last: only the high word set
  const std::vector<uint64_t> masks = Specials<uint64_t>(specials, 5, 8);
  std::vector<uint64_t> xs = Specials<uint64_t>(masks, 6, 20000);
  CheckPairs<uint64_t>(masks, xs, DecodeDouble, "float64");
}

}  // namespace
}  // namespace tftrt_masking
