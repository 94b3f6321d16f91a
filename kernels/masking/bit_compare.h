// The row test of Masking, x != m in the element type, on raw bits (m: the
// mask value as the host made it a T, NaN where T cannot hold the mask value,
// ComparedMaskValue in masking.h):
// for a mask value m that is not NaN, x == m exactly when x's bits equal m's,
// except that +0 and -0 are equal (then the sign bit is left out of the
// comparison); a NaN m equals nothing. A 16-byte vector of elements then
// differs from m when any of its four 32-bit words, masked, differs from m's
// pattern: integer AND/XOR/OR instead of converting each fp16 element to
// float (quarter-rate conversion units, 8 per vector) before comparing.
#ifndef TFTRT_MASKING_KERNELS_MASKING_BIT_COMPARE_H_
#define TFTRT_MASKING_KERNELS_MASKING_BIT_COMPARE_H_

#include <cstdint>

#if defined(__CUDACC__)
#define TFTRT_MASKING_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define TFTRT_MASKING_HOST_DEVICE inline
#endif

namespace tftrt_masking {

// m's pattern over the 32-bit words of a vector: word i is compared through
// mask[i % 2] and value[i % 2] (8-byte elements span two words).
struct MaskValuePattern {
  uint32_t mask[2];
  uint32_t value[2];
  bool equals_nothing;  // m is NaN
};

// bits: m's bits in the element type (element_bytes 2, 4 or 8); is_nan: m is NaN.
TFTRT_MASKING_HOST_DEVICE MaskValuePattern MakeMaskValuePattern(uint64_t bits, int element_bytes,
                                                                bool is_nan) {
  const int width = 8 * element_bytes;
  const uint64_t all = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  const uint64_t sign = uint64_t{1} << (width - 1);
  const bool zero = (bits & all & ~sign) == 0;
  const uint64_t element_mask = zero ? all & ~sign : all;
  const uint64_t element_value = bits & element_mask;
  MaskValuePattern p;
  p.equals_nothing = is_nan;
  if (element_bytes == 8) {
    p.mask[0] = static_cast<uint32_t>(element_mask);
    p.mask[1] = static_cast<uint32_t>(element_mask >> 32);
    p.value[0] = static_cast<uint32_t>(element_value);
    p.value[1] = static_cast<uint32_t>(element_value >> 32);
  } else {
    uint32_t mask = static_cast<uint32_t>(element_mask);
    uint32_t value = static_cast<uint32_t>(element_value);
    if (element_bytes == 2) {
      mask |= mask << 16;
      value |= value << 16;
    }
    p.mask[0] = p.mask[1] = mask;
    p.value[0] = p.value[1] = value;
  }
  return p;
}

// Whether any element of the vector (four little-endian 32-bit words) != m.
TFTRT_MASKING_HOST_DEVICE bool AnyElementDiffers(uint32_t w0, uint32_t w1, uint32_t w2,
                                                 uint32_t w3, const MaskValuePattern& p) {
  const uint32_t differ = ((w0 & p.mask[0]) ^ p.value[0]) | ((w1 & p.mask[1]) ^ p.value[1]) |
                          ((w2 & p.mask[0]) ^ p.value[0]) | ((w3 & p.mask[1]) ^ p.value[1]);
  return p.equals_nothing || differ != 0;
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_MASKING_BIT_COMPARE_H_
