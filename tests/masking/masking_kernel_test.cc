// The CPU Masking kernel and the GPU launch configuration, without TensorFlow.
#include <cmath>
#include <cstdint>
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

}  // namespace
}  // namespace tftrt_masking
