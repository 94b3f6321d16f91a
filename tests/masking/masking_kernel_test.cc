// The CPU Masking kernel and the GPU launch configuration, without TensorFlow.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/masking/masking.h"

namespace tftrt_masking {
namespace {

// A straightforward reference written from the spec: any(x != v) per row.
std::vector<bool> ReferenceMask(const std::vector<float>& x, int64_t features, float value) {
  const int64_t rows = features == 0 ? 0 : static_cast<int64_t>(x.size()) / features;
  std::vector<bool> mask(rows, false);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < features; ++f) mask[r] = mask[r] || x[r * features + f] != value;
  }
  return mask;
}

std::vector<float> RandomRows(int64_t rows, int64_t features, float value, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::bernoulli_distribution masked(0.3), almost(0.1);
  std::vector<float> x(rows * features);
  for (int64_t r = 0; r < rows; ++r) {
    const bool all = masked(gen), all_but_first = almost(gen);
    for (int64_t f = 0; f < features; ++f) {
      x[r * features + f] = (all || (all_but_first && f > 0)) ? value : normal(gen);
    }
  }
  return x;
}

TEST(MaskingRowsCpu, MatchesReferenceOnRandomRows) {
  for (int64_t features : {1, 3, 8, 33}) {
    const int64_t rows = 57;
    const std::vector<float> x = RandomRows(rows, features, -1.0f, features);
    std::vector<float> out(x.size(), std::nanf("7"));
    std::vector<int32_t> mask(rows, -1);
    MaskingRowsCpu<float, int32_t>(x.data(), features, -1.0f, MaskedOutputMode::kWhere, 0,
                                   rows, out.data(), mask.data());
    const std::vector<bool> expected = ReferenceMask(x, features, -1.0f);
    for (int64_t r = 0; r < rows; ++r) {
      ASSERT_EQ(mask[r], expected[r] ? 1 : 0) << "row " << r;
      for (int64_t f = 0; f < features; ++f) {
        const float got = out[r * features + f];
        if (expected[r]) {
          EXPECT_EQ(got, x[r * features + f]);
        } else {
          EXPECT_EQ(got, 0.0f);
          EXPECT_FALSE(std::signbit(got)) << "where() writes +0.0";
        }
      }
    }
  }
}

TEST(MaskingRowsCpu, MultiplyKeepsSignAndGivesNanForInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {-1.0f, -1.0f, 2.0f, -1.0f};
  std::vector<float> out(4);
  bool mask[2];
  MaskingRowsCpu<float, bool>(x.data(), 2, -1.0f, MaskedOutputMode::kMultiply, 0, 2,
                              out.data(), mask);
  EXPECT_FALSE(mask[0]);
  EXPECT_TRUE(mask[1]);
  EXPECT_TRUE(std::signbit(out[0]) && out[0] == 0.0f) << "-1 * 0 = -0.0";
  EXPECT_EQ(out[2], 2.0f);
  EXPECT_EQ(out[3], -1.0f);

  x = {inf, inf};
  MaskingRowsCpu<float, bool>(x.data(), 2, inf, MaskedOutputMode::kMultiply, 0, 1, out.data(),
                              mask);
  EXPECT_FALSE(mask[0]);
  EXPECT_TRUE(std::isnan(out[0]));
  MaskingRowsCpu<float, bool>(x.data(), 2, inf, MaskedOutputMode::kWhere, 0, 1, out.data(),
                              mask);
  EXPECT_EQ(out[0], 0.0f);
}

TEST(MaskingRowsCpu, NanNeverMasksAndNegativeZeroEqualsZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {nan, nan, -0.0f, 0.0f};
  std::vector<float> out(4);
  bool mask[2];
  MaskingRowsCpu<float, bool>(x.data(), 2, nan, MaskedOutputMode::kWhere, 0, 2, out.data(),
                              mask);
  EXPECT_TRUE(mask[0] && mask[1]) << "a NaN mask value masks nothing";
  MaskingRowsCpu<float, bool>(x.data(), 2, 0.0f, MaskedOutputMode::kWhere, 0, 2, out.data(),
                              mask);
  EXPECT_TRUE(mask[0]) << "a NaN feature keeps its row";
  EXPECT_FALSE(mask[1]) << "-0.0 == 0.0";
}

TEST(MaskingRowsCpu, ZeroFeaturesMaskEveryRow) {
  bool mask[3] = {true, true, true};
  MaskingRowsCpu<float, bool>(nullptr, 0, 0.0f, MaskedOutputMode::kWhere, 0, 3, nullptr, mask);
  EXPECT_FALSE(mask[0] || mask[1] || mask[2]);
}

TEST(MaskingRowsCpu, ShardsCoverDisjointRows) {
  const int64_t rows = 40, features = 5;
  const std::vector<float> x = RandomRows(rows, features, 0.0f, 11);
  std::vector<float> whole(x.size()), sharded(x.size());
  std::vector<int32_t> mask_whole(rows), mask_sharded(rows);
  MaskingRowsCpu<float, int32_t>(x.data(), features, 0.0f, MaskedOutputMode::kWhere, 0, rows,
                                 whole.data(), mask_whole.data());
  for (int64_t begin = 0; begin < rows; begin += 7) {
    MaskingRowsCpu<float, int32_t>(x.data(), features, 0.0f, MaskedOutputMode::kWhere, begin,
                                   std::min(rows, begin + 7), sharded.data(),
                                   mask_sharded.data());
  }
  EXPECT_EQ(whole, sharded);
  EXPECT_EQ(mask_whole, mask_sharded);
}

// The mask value is compared exactly: an element equals it only if it is that
// very number. A value the element type cannot hold equals no element (Keras
// compares a float16 x against float32(0.1) in float32, and float16 holds no
// such number), and that is decided on the host (ComparedMaskValue).
TEST(MaskingRowsCpu, MaskValueTheElementTypeCannotHoldMasksNothing) {
  // 0.1 as a double is not a float: float rows of 0.1f stay.
  std::vector<float> x = {0.1f, 0.1f, 1.0f, 0.1f};
  std::vector<float> out(4);
  bool mask[2];
  MaskingRowsCpu<float, bool>(x.data(), 2, 0.1, MaskedOutputMode::kWhere, 0, 2, out.data(), mask);
  EXPECT_TRUE(mask[0] && mask[1]);
  EXPECT_EQ(out, x);
  // float32(0.1), the number Keras 3 compares against, is held and masks.
  MaskingRowsCpu<float, bool>(x.data(), 2, static_cast<double>(0.1f), MaskedOutputMode::kWhere, 0,
                              2, out.data(), mask);
  EXPECT_FALSE(mask[0]);
  EXPECT_TRUE(mask[1]);
  // Beyond float's range: never held, never rounded to inf.
  const float inf = std::numeric_limits<float>::infinity();
  x = {inf, inf, 3.0f, 3.0f};
  MaskingRowsCpu<float, bool>(x.data(), 2, 1e300, MaskedOutputMode::kWhere, 0, 2, out.data(), mask);
  EXPECT_TRUE(mask[0] && mask[1]) << "1e300 is not float inf";
  MaskingRowsCpu<float, bool>(x.data(), 2, -3.4028235677973366e38, MaskedOutputMode::kWhere, 0, 2,
                              out.data(), mask);
  EXPECT_TRUE(mask[0] && mask[1]);
}

TEST(MaskingRowsCpu, Float64KeepsItsFloat64MaskValue) {
  const double big = 1e300, tenth = 0.1;
  std::vector<double> x = {big, big, std::numeric_limits<double>::infinity(), big, tenth, tenth,
                           static_cast<double>(0.1f), static_cast<double>(0.1f)};
  std::vector<double> out(x.size());
  bool mask[4];
  MaskingRowsCpu<double, bool>(x.data(), 2, big, MaskedOutputMode::kWhere, 0, 4, out.data(), mask);
  EXPECT_FALSE(mask[0]) << "1e300 rows are masked";
  EXPECT_TRUE(mask[1] && mask[2] && mask[3]);
  MaskingRowsCpu<double, bool>(x.data(), 2, tenth, MaskedOutputMode::kWhere, 0, 4, out.data(),
                               mask);
  EXPECT_TRUE(mask[0] && mask[1] && mask[3]);
  EXPECT_FALSE(mask[2]) << "0.1 as a double, not float32(0.1)";
}

// A 16-bit element type for the rule, independent of Eigen and CUDA: bfloat16
// converted from float by truncation. ComparedMaskValue must not depend on how
// a type rounds, only on which numbers it holds.
struct TruncatedBfloat16 {
  uint16_t bits = 0;
  TruncatedBfloat16() = default;
  explicit TruncatedBfloat16(float f) {
    uint32_t wide;
    std::memcpy(&wide, &f, 4);
    bits = static_cast<uint16_t>(wide >> 16);
    if (std::isnan(f)) bits |= 0x40;  // stays NaN
  }
  explicit operator float() const {
    const uint32_t wide = uint32_t{bits} << 16;
    float f;
    std::memcpy(&f, &wide, 4);
    return f;
  }
  bool operator!=(TruncatedBfloat16 other) const {
    return static_cast<float>(*this) != static_cast<float>(other);
  }
  TruncatedBfloat16 operator*(TruncatedBfloat16 other) const {
    return TruncatedBfloat16(static_cast<float>(*this) * static_cast<float>(other));
  }
};

TEST(ComparedMaskValue, EveryBfloat16IsHeldAndNothingBetween) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    TruncatedBfloat16 b;
    b.bits = static_cast<uint16_t>(bits);
    const double value = static_cast<float>(b);
    const float held = static_cast<float>(ComparedMaskValue<TruncatedBfloat16>(value));
    if (std::isnan(value)) {
      ASSERT_TRUE(std::isnan(held)) << bits;
      continue;
    }
    ASSERT_EQ(held, value) << bits;
    if (std::isinf(value)) continue;
    // The next float (no bfloat16: its low bits are not zero) and a double
    // between the two (no float): held by no bfloat16.
    const double next = std::nextafter(static_cast<float>(value),
                                       std::copysign(HUGE_VALF, static_cast<float>(value)));
    const double between = value + (next - value) / 2;
    for (double other : {next, between}) {
      ASSERT_TRUE(std::isnan(static_cast<float>(ComparedMaskValue<TruncatedBfloat16>(other))))
          << bits << " " << other;
    }
  }
  // Values of the issue: float16/bfloat16 hold none of them.
  for (double value : {0.1, -999.9, 1e5, 1e300}) {
    EXPECT_TRUE(std::isnan(static_cast<float>(ComparedMaskValue<TruncatedBfloat16>(value))))
        << value;
  }
  EXPECT_EQ(static_cast<float>(ComparedMaskValue<TruncatedBfloat16>(-0.0)), 0.0f);
  EXPECT_TRUE(std::isinf(static_cast<float>(
      ComparedMaskValue<TruncatedBfloat16>(-std::numeric_limits<double>::infinity()))));
}

TEST(MaskingRowsCpu, SixteenBitRowsEqualOnlyAValueTheTypeHolds) {
  // Rows of bfloat16 0.10009765625 (the nearest bfloat16 to 0.1): masked by that
  // number, not by 0.1 or float32(0.1).
  const TruncatedBfloat16 near_tenth(0.10009765625f);
  ASSERT_EQ(static_cast<float>(near_tenth), 0.10009765625f);
  std::vector<TruncatedBfloat16> x = {near_tenth, near_tenth};
  std::vector<TruncatedBfloat16> out(2);
  int32_t mask[1];
  for (double value : {0.1, static_cast<double>(0.1f)}) {
    MaskingRowsCpu<TruncatedBfloat16, int32_t>(x.data(), 2, value, MaskedOutputMode::kWhere, 0, 1,
                                               out.data(), mask);
    EXPECT_EQ(mask[0], 1) << value;
  }
  MaskingRowsCpu<TruncatedBfloat16, int32_t>(x.data(), 2, 0.10009765625, MaskedOutputMode::kWhere,
                                             0, 1, out.data(), mask);
  EXPECT_EQ(mask[0], 0);
  EXPECT_EQ(static_cast<float>(out[0]), 0.0f);
}

// Launch configuration: every row gets a lane group, groups tile the block, and
// the grid stays inside CUDA's limit even for huge tensors.
TEST(MaskingLaunchConfig, CoversOddSizesAndHugeTensors) {
  const int64_t kMaxGridX = (int64_t{1} << 31) - 1;
  for (int64_t rows : {int64_t{1}, int64_t{7}, int64_t{255}, int64_t{1000003},
                       int64_t{3} << 33}) {
    for (int64_t features : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{17}, int64_t{32},
                             int64_t{33}, int64_t{4097}}) {
      const MaskingLaunchConfig c = GetMaskingLaunchConfig(rows, features);
      SCOPED_TRACE(testing::Message() << "rows=" << rows << " features=" << features);
      ASSERT_GT(c.grid, 0);
      ASSERT_LE(c.grid, kMaxGridX);
      ASSERT_GT(c.block, 0);
      ASSERT_LE(c.block, 1024);
      ASSERT_EQ(c.block % 32, 0) << "whole warps: lane-group shuffles need full warps";
      ASSERT_GE(c.lanes_per_row, 1);
      ASSERT_LE(c.lanes_per_row, 32);
      ASSERT_EQ(32 % c.lanes_per_row, 0) << "lane groups must not straddle warps";
      ASSERT_EQ(c.rows_per_block * c.lanes_per_row, c.block);
      // Short rows do not leave most lanes of a group idle.
      ASSERT_LT(c.lanes_per_row, 2 * std::max<int64_t>(features, 1));
      // No more blocks than rows need; ordinary sizes get one row group per
      // lane group (the grid-stride loop is only for huge tensors).
      const int64_t blocks_needed = (rows + c.rows_per_block - 1) / c.rows_per_block;
      ASSERT_LE(c.grid, blocks_needed);
      if (rows <= 1000003) ASSERT_EQ(c.grid, blocks_needed);
    }
  }
}

TEST(MaskingLaunchConfig, NothingToDoForEmptyTensors) {
  EXPECT_EQ(GetMaskingLaunchConfig(0, 8).grid, 0);
}

// Aligned rows of 1, 2, 4 or 8 whole 16-byte vectors take the short-rows
// kernel, other short or odd rows the tile kernel, aligned rows of >= 256
// bytes the vector kernel, the rest (unaligned, zero features, long odd rows)
// the scalar one.
TEST(MaskingKernelChoice, EachRowShapeTakesItsKernel) {
  struct Case {
    int64_t features, element_bytes;
    bool aligned;
    MaskingKernelKind want;
  };
  const MaskingKernelKind kScalar = MaskingKernelKind::kScalar;
  const MaskingKernelKind kVector = MaskingKernelKind::kVector;
  const MaskingKernelKind kTile = MaskingKernelKind::kTile;
  const MaskingKernelKind kShort = MaskingKernelKind::kShortRows;
  const Case cases[] = {
      {4, 4, true, kShort},    {8, 2, true, kShort},     {2, 8, true, kShort},
      {8, 4, true, kShort},    {16, 4, true, kShort},    {32, 4, true, kShort},
      {64, 2, true, kShort},   {16, 2, true, kShort},    {16, 8, true, kShort},
      {12, 4, true, kTile},    {24, 4, true, kTile},     {48, 2, true, kTile},
      {4, 4, false, kScalar},  {3, 4, true, kTile},      {9, 2, true, kTile},
      {7, 4, true, kTile},     {63, 4, true, kTile},     {32, 8, true, kVector},
      {64, 4, true, kVector},  {129, 4, true, kTile},    {255, 4, true, kTile},
      {256, 4, true, kVector}, {257, 4, true, kScalar},  {1000, 4, true, kVector},
      {1, 4, true, kTile},     {127, 2, true, kTile},    {8, 4, false, kScalar},
      {128, 2, true, kVector}, {129, 2, true, kTile},    {512, 2, true, kVector},
      {513, 2, true, kScalar}, {1, 8, true, kTile},      {31, 8, true, kTile},
      {127, 8, true, kTile},   {129, 8, true, kScalar},  {64, 2, false, kScalar},
      {7, 4, false, kScalar},  {64, 4, false, kScalar},  {0, 4, true, kScalar},
      {int64_t{1} << 61, 4, true, kVector}, {(int64_t{1} << 61) + 1, 4, true, kScalar},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ChooseMaskingKernel(c.features, c.element_bytes, c.aligned), c.want)
        << "features=" << c.features << " element_bytes=" << c.element_bytes
        << " aligned=" << c.aligned;
  }
}

// Tiles: whole rows, a multiple of 16 rows (every tile starts on a 16-byte
// boundary), as full as that allows, inside the shared-memory buffer; lane
// groups keep most threads busy; one wave of blocks, never more than tiles.
TEST(MaskingTileConfig, TilesAreAlignedFullAndCoverEveryRow) {
  for (int64_t row_bytes = 1; row_bytes <= kMaskingTileMaxRowBytes; ++row_bytes) {
    for (int64_t rows : {int64_t{1}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{70000},
                         int64_t{1000003}, int64_t{3} << 33}) {
      for (int64_t resident : {int64_t{0}, int64_t{1}, int64_t{660}, int64_t{1} << 20}) {
        const MaskingTileConfig c = GetMaskingTileConfig(rows, row_bytes, resident);
        SCOPED_TRACE(testing::Message() << "row_bytes=" << row_bytes << " rows=" << rows
                                        << " resident=" << resident);
        ASSERT_EQ(c.block, kMaskingTileThreads);
        ASSERT_GE(c.tile_rows, 16);
        ASSERT_EQ(c.tile_rows % 16, 0);
        ASSERT_EQ(c.tile_rows * row_bytes % 16, 0);
        ASSERT_LE(c.tile_rows * row_bytes, kMaskingTileBytes);
        ASSERT_GT((c.tile_rows + 16) * row_bytes, kMaskingTileBytes) << "16 more rows fit";
        ASSERT_GE(c.lanes_per_row, 1);
        ASSERT_LE(c.lanes_per_row, 32);
        ASSERT_EQ(32 % c.lanes_per_row, 0) << "lane groups must not straddle warps";
        ASSERT_TRUE(c.lanes_per_row == 1 || c.tile_rows * c.lanes_per_row <= c.block)
            << "several lanes per row only while every row of the tile has its group";
        ASSERT_TRUE(c.lanes_per_row == 32 || 2 * c.tile_rows * c.lanes_per_row > c.block)
            << "more lanes per row would still fit";
        const int64_t tiles = (rows + c.tile_rows - 1) / c.tile_rows;
        ASSERT_GT(c.grid, 0);
        ASSERT_LE(c.grid, tiles);
        ASSERT_LE(c.grid, std::max<int64_t>(resident, 1));
        ASSERT_EQ(c.grid, std::min(tiles, std::max<int64_t>(resident, 1)));
      }
    }
  }
}

TEST(MaskingTileConfig, NothingToDoForEmptyTensorsOrLongRows) {
  EXPECT_EQ(GetMaskingTileConfig(0, 32, 660).grid, 0);
  EXPECT_EQ(GetMaskingTileConfig(10, 0, 660).grid, 0);
  EXPECT_EQ(GetMaskingTileConfig(10, kMaskingTileMaxRowBytes + 1, 660).grid, 0);
}

// The shapes the tile kernel was built for: 16 KiB tiles of 512 (fp32 F = 8),
// 576 (fp32 F = 7) and 128 (fp16 F = 64) rows.
TEST(MaskingTileConfig, BenchmarkedShapes) {
  const MaskingTileConfig f8 = GetMaskingTileConfig(1 << 23, 32, 660);
  EXPECT_EQ(f8.tile_rows, 512);
  EXPECT_EQ(f8.lanes_per_row, 1);
  EXPECT_EQ(f8.grid, 660);
  const MaskingTileConfig f7 = GetMaskingTileConfig(9586980, 28, 660);
  EXPECT_EQ(f7.tile_rows, 576);
  EXPECT_EQ(f7.lanes_per_row, 1);
  const MaskingTileConfig half64 = GetMaskingTileConfig(1 << 20, 128, 660);
  EXPECT_EQ(half64.tile_rows, 128);
  EXPECT_EQ(half64.lanes_per_row, 2);
  const MaskingTileConfig f129 = GetMaskingTileConfig(100, 516, 660);
  EXPECT_EQ(f129.tile_rows, 16);
  EXPECT_EQ(f129.lanes_per_row, 16);
  EXPECT_EQ(f129.grid, 7);
}

}  // namespace
}  // namespace tftrt_masking
