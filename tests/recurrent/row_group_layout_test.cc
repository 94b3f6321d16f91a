// The row-group recurrence's shared-memory layouts of h (row_group_layout.h):
// every (unit, row, part) has its own 2-byte slot inside the buffer, a block's
// units stay inside its region (what one bulk copy per peer sends), the core
// matrices are the K-major canonical layout that the wgmma descriptor and the
// ldmatrix rows of the kernel read, and the descriptor's fields.
#include "kernels/rnn/row_group_layout.h"

#include <set>
#include <tuple>

#include "gtest/gtest.h"

namespace tftrt_masking {
namespace rnn_gpu {
namespace {

// Blocks of `warps` warps own 4 warps units each; k_tiles cover 16 k_tiles units.
struct Shape {
  int k_tiles, row_tiles, warps;
};
const Shape kShapes[] = {{8, 1, 4},  {16, 1, 4}, {32, 1, 4}, {8, 1, 8},  {16, 2, 8},
                         {32, 3, 8}, {32, 4, 8}, {8, 4, 8},  {16, 4, 8}, {32, 1, 8}};

unsigned LoOffset(int unit, int row, int row_tiles) {
  return CoreOffset(unit, row, row_tiles) + row_tiles * kCoreNStride;
}

TEST(RowGroupLayout, CoreSlotsAreDistinctAndInsideTheBuffer) {
  for (const Shape& s : kShapes) {
    std::set<unsigned> slots;
    const int units = 16 * s.k_tiles, rows = kRowsPerTile * s.row_tiles;
    for (int u = 0; u < units; ++u) {
      for (int r = 0; r < rows; ++r) {
        for (unsigned at : {CoreOffset(u, r, s.row_tiles), LoOffset(u, r, s.row_tiles)}) {
          EXPECT_EQ(at % 2, 0u);
          EXPECT_LT(at + 2, HBufferBytes(s.k_tiles, s.row_tiles) + 1);
          EXPECT_TRUE(slots.insert(at).second) << "unit " << u << " row " << r;
        }
      }
    }
    // Every byte of the buffer is some slot: nothing is left for padding to hide in.
    EXPECT_EQ(2 * slots.size(), HBufferBytes(s.k_tiles, s.row_tiles));
  }
}

TEST(RowGroupLayout, BlockUnitsStayInTheBlockRegion) {
  for (const Shape& s : kShapes) {
    const int units_per_block = 4 * s.warps;
    const size_t region = RegionBytes(s.row_tiles, s.warps);
    for (int u = 0; u < 16 * s.k_tiles; ++u) {
      const int block = u / units_per_block;
      for (int r = 0; r < kRowsPerTile * s.row_tiles; ++r) {
        for (unsigned at : {CoreOffset(u, r, s.row_tiles), LoOffset(u, r, s.row_tiles)}) {
          EXPECT_GE(at, block * region);
          EXPECT_LT(at, (block + 1) * region) << "unit " << u << " row " << r;
        }
        // Packets: [region][row][W packets], unit u in packet (u / 4) % W.
        const int packet = u / 4;
        const size_t at = block * region + PacketOffset(r, packet % s.warps, s.warps);
        EXPECT_GE(at, block * region);
        EXPECT_LT(at + 16, (block + 1) * region + 1);
      }
    }
  }
}

// wgmma's K-major operand without swizzle: element (k, n) of a K = 16 slice at
// (k / 8) * LBO + (n / 8) * SBO + 16 (n % 8) + 2 (k % 8); B's column n is hi of
// row n for n < 8 row_tiles, else lo of row n - 8 row_tiles.
TEST(RowGroupLayout, CoreMatricesAreTheWgmmaOperandLayout) {
  for (const Shape& s : kShapes) {
    const int rows = kRowsPerTile * s.row_tiles;
    for (int kt = 0; kt < s.k_tiles; ++kt) {
      for (int k = 0; k < 16; ++k) {
        for (int n = 0; n < 2 * rows; ++n) {
          const unsigned canonical = kt * CoreTileBytes(s.row_tiles) + (k / 8) * kCoreKStride +
                                     (n / 8) * kCoreNStride + 16 * (n % 8) + 2 * (k % 8);
          const unsigned ours = n < rows ? CoreOffset(16 * kt + k, n, s.row_tiles)
                                         : LoOffset(16 * kt + k, n - rows, s.row_tiles);
          EXPECT_EQ(ours, canonical) << "kt " << kt << " k " << k << " n " << n;
        }
      }
    }
  }
}

// Without wgmma the kernel gives ldmatrix.x4 the rows of hi kc 0, hi kc 1, lo kc 0,
// lo kc 1 of row tile j (lane 8 i + r: matrix i, row r); lane (gid, tig) then gets
// the 4 bytes at 4 tig of row gid of each, which mma.sync m16n8k16 expects as
// B[k = 2 tig, 2 tig + 1 (+ 8)][n = gid].
TEST(RowGroupLayout, LdmatrixRowsGiveTheMmaFragments) {
  for (const Shape& s : kShapes) {
    for (int kt = 0; kt < s.k_tiles; ++kt) {
      for (int j = 0; j < s.row_tiles; ++j) {
        for (int matrix = 0; matrix < 4; ++matrix) {
          const unsigned group = matrix < 2 ? j : s.row_tiles + j;
          const unsigned base = kt * CoreTileBytes(s.row_tiles) + group * kCoreNStride +
                                (matrix & 1) * kCoreKStride;
          for (int gid = 0; gid < 8; ++gid) {
            for (int tig = 0; tig < 4; ++tig) {
              const int k = 16 * kt + 2 * tig + 8 * (matrix & 1);
              const int row = kRowsPerTile * j + gid;
              const unsigned want = matrix < 2 ? CoreOffset(k, row, s.row_tiles)
                                               : LoOffset(k, row, s.row_tiles);
              EXPECT_EQ(base + 16 * gid + 4 * tig, want);
              EXPECT_EQ(want + 2, matrix < 2 ? CoreOffset(k + 1, row, s.row_tiles)
                                             : LoOffset(k + 1, row, s.row_tiles));
            }
          }
        }
      }
    }
  }
}

TEST(RowGroupLayout, PacketsOfARowTileAreDistinctAndBankSpread) {
  for (int warps : {4, 8}) {
    std::set<unsigned> seen;
    for (int row = 0; row < kRowsPerTile; ++row) {
      for (int w = 0; w < warps; ++w) EXPECT_TRUE(seen.insert(PacketOffset(row, w, warps)).second);
    }
    EXPECT_EQ(*seen.rbegin() + 16, RegionBytes(1, warps));
    // A 16-byte load phase: lanes (gid, tig), gid in {2 p, 2 p + 1}, tig 0..3 read packet
    // tig (+ 4) of row gid: 8 distinct 16-byte bank groups.
    for (int p = 0; p < 4; ++p) {
      for (int half = 0; half < (warps == 8 ? 2 : 1); ++half) {
        std::set<unsigned> banks;
        for (int gid = 2 * p; gid < 2 * p + 2; ++gid) {
          for (int tig = 0; tig < 4; ++tig) {
            banks.insert((PacketOffset(gid, 4 * half + tig, warps) % 128) / 16);
          }
        }
        EXPECT_EQ(banks.size(), 8u) << "warps " << warps << " phase " << p;
      }
    }
  }
}

TEST(RowGroupLayout, MatrixDescriptorFields) {
  const uint64_t d = MatrixDescriptor(0x1230, kCoreKStride, kCoreNStride);
  EXPECT_EQ(d & 0x3FFF, 0x1230u >> 4);                 // start address
  EXPECT_EQ((d >> 16) & 0x3FFF, kCoreKStride >> 4);     // leading byte offset
  EXPECT_EQ((d >> 32) & 0x3FFF, kCoreNStride >> 4);     // stride byte offset
  EXPECT_EQ(d >> 46, 0u);                               // base offset 0, no swizzle
  EXPECT_EQ(d & 0xC000C000ull, 0u);                     // reserved bits
  // The 18-bit shared window: the address wraps, it never spills into the next field.
  EXPECT_EQ(MatrixDescriptor(0x3FFF0, 0, 0), 0x3FFFull);
  EXPECT_EQ(MatrixDescriptor(0x40000, 0, 0), 0u);
}

}  // namespace
}  // namespace rnn_gpu
}  // namespace tftrt_masking
