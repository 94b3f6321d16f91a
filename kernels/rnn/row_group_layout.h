// Where the row-group recurrence keeps h in shared memory (byte offsets), and
// the wgmma matrix descriptor that reads it. CUDA-free so that the layout is
// tested on the host (tests/recurrent/row_group_layout_test.cc).
//
// Two layouts, one per way h travels to the peers:
// - packets (st.async): [region][row][W packets of 16 bytes], a packet being
//   [hi u0..u3][lo u0..u3] of the 4 units a warp owns, so one ld.shared.v4
//   gives a lane both parts' B fragments of a k tile;
// - core matrices (bulk copies, the wgmma B operand): k tile kt (units
//   16 kt..+15) at kt * CoreTileBytes; in it the 8 x 16-byte core matrix of
//   units 8 kc..+7 and column group g (g < row_tiles: hi of row tile g, else
//   lo of row tile g - row_tiles) at kc * kCoreKStride + g * kCoreNStride,
//   batch row r at 16 (r % 8): wgmma's K-major layout without swizzle.
// In both, region r (the 4 W units of block r) is one contiguous run of
// RegionBytes: a block sends its h of a step to a peer as one bulk copy.
#ifndef TFTRT_MASKING_KERNELS_RNN_ROW_GROUP_LAYOUT_H_
#define TFTRT_MASKING_KERNELS_RNN_ROW_GROUP_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define TFTRT_MASKING_LAYOUT_FN __host__ __device__ constexpr
#else
#define TFTRT_MASKING_LAYOUT_FN constexpr
#endif

namespace tftrt_masking {
namespace rnn_gpu {

constexpr int kRowsPerTile = 8;  // batch rows = the n8 of an m16n8k16 tile

// Bytes of block r's region (4 W units, row_tiles x 8 rows, hi and lo).
TFTRT_MASKING_LAYOUT_FN size_t RegionBytes(int row_tiles, int warps) {
  return static_cast<size_t>(kRowsPerTile) * row_tiles * warps * 16;
}
// Bytes of one h buffer: 16 k_tiles units (4 k_tiles packets per row).
TFTRT_MASKING_LAYOUT_FN size_t HBufferBytes(int k_tiles, int row_tiles) {
  return static_cast<size_t>(kRowsPerTile) * row_tiles * 4 * k_tiles * 16;
}

// Packets: byte offset of packet w of `row` in a region of `warps` packets per
// row. Rows of 8 packets (128 bytes) put the 64-byte halves in swapped order
// on odd rows, so that the 8 lanes of a 16-byte access phase (rows gid,
// gid + 1) hit distinct banks.
TFTRT_MASKING_LAYOUT_FN unsigned PacketOffset(int row, int w, int warps) {
  return static_cast<unsigned>(row * warps + (warps == 8 ? (w ^ (4 * (row & 1))) : w)) * 16;
}

// Core matrices.
constexpr unsigned kCoreKStride = 128;  // between the two core matrices of a k tile
constexpr unsigned kCoreNStride = 256;  // between column groups of 8 rows
TFTRT_MASKING_LAYOUT_FN unsigned CoreTileBytes(int row_tiles) { return 512u * row_tiles; }
// Byte offset of hi of (unit, batch row); lo is row_tiles * kCoreNStride further.
TFTRT_MASKING_LAYOUT_FN unsigned CoreOffset(int unit, int row, int row_tiles) {
  return static_cast<unsigned>((unit / 16) * CoreTileBytes(row_tiles) +
                               ((unit % 16) / 8) * kCoreKStride + (row / 8) * kCoreNStride +
                               16 * (row % 8) + 2 * (unit % 8));
}

// wgmma descriptor of a K-major operand without swizzle at shared `address`:
// `k_stride` bytes between the two core matrices of a k16 slice (the leading
// byte offset), `n_stride` bytes between groups of 8 rows of N (the stride
// byte offset); fields in 16-byte units, base offset 0, swizzle mode 0. On the
// H100 this read back A x B to 1e-5 of float64; k and n strides swapped did
// not (bench/probes/wgmma_probe.cu).
TFTRT_MASKING_LAYOUT_FN uint64_t MatrixDescriptor(unsigned address, unsigned k_stride,
                                                  unsigned n_stride) {
  return static_cast<uint64_t>((address & 0x3FFFF) >> 4) |
         (static_cast<uint64_t>((k_stride & 0x3FFFF) >> 4) << 16) |
         (static_cast<uint64_t>((n_stride & 0x3FFFF) >> 4) << 32);
}

}  // namespace rnn_gpu
}  // namespace tftrt_masking

#undef TFTRT_MASKING_LAYOUT_FN

#endif  // TFTRT_MASKING_KERNELS_RNN_ROW_GROUP_LAYOUT_H_
