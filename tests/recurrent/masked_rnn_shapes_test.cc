// MaskedRnnExpectedShapes: the one description of a recurrence's tensor shapes
// that the TF op kernel, the TF-TRT converter and the TensorRT plugin check
// against (kernels/rnn/masked_rnn_shapes.h).
#include "kernels/rnn/masked_rnn_shapes.h"

#include <vector>

#include "gtest/gtest.h"

namespace tftrt_masking {
namespace {

bool Matches(const ExpectedShape& shape, std::vector<int64_t> dims) {
  return shape.Matches(dims.data(), static_cast<int>(dims.size()));
}

MaskedRnnConfig Config(RnnCell cell, bool has_bias, bool reset_after, bool return_sequences) {
  MaskedRnnConfig config;
  config.cell = cell;
  config.batch = 3;
  config.time = 5;
  config.input_size = 7;
  config.units = 4;
  config.has_bias = has_bias;
  config.reset_after = reset_after;
  config.return_sequences = return_sequences;
  return config;
}

TEST(MaskedRnnShapes, KerasLayoutForEveryCell) {
  for (RnnCell cell : {RnnCell::kLstm, RnnCell::kGru, RnnCell::kSimpleRnn}) {
    const int64_t g = GateCount(cell) * 4;
    for (bool has_bias : {false, true}) {
      for (bool reset_after : {false, true}) {
        for (bool sequences : {false, true}) {
          const MaskedRnnShapes s =
              MaskedRnnExpectedShapes(Config(cell, has_bias, reset_after, sequences));
          EXPECT_TRUE(Matches(s.x, {3, 5, 7}));
          EXPECT_TRUE(Matches(s.mask, {3, 5}));
          EXPECT_TRUE(Matches(s.kernel, {7, g}));
          EXPECT_TRUE(Matches(s.recurrent_kernel, {4, g}));
          if (!has_bias) {
            EXPECT_TRUE(Matches(s.bias, {0}));
          } else if (cell == RnnCell::kGru && reset_after) {
            EXPECT_TRUE(Matches(s.bias, {2, g}));
          } else {
            EXPECT_TRUE(Matches(s.bias, {g}));
          }
          EXPECT_EQ(s.bias.rank == 1 ? s.bias.dims[0] : s.bias.dims[0] * s.bias.dims[1],
                    BiasSize(Config(cell, has_bias, reset_after, sequences)));
          EXPECT_TRUE(Matches(s.initial_h, {3, 4}));
          EXPECT_TRUE(Matches(s.final_h, {3, 4}));
          EXPECT_EQ(s.initial_c.rank, cell == RnnCell::kLstm ? 2 : 0);
          EXPECT_EQ(s.final_c.rank, cell == RnnCell::kLstm ? 2 : 0);
          EXPECT_TRUE(sequences ? Matches(s.output, {3, 5, 4}) : Matches(s.output, {3, 4}));
        }
      }
    }
  }
}

TEST(MaskedRnnShapes, UnknownExtentsMatchAnythingButRankAndKnownExtentsStillCount) {
  MaskedRnnConfig config = Config(RnnCell::kLstm, true, false, true);
  config.batch = kAnyExtent;
  config.time = kAnyExtent;
  const MaskedRnnShapes s = MaskedRnnExpectedShapes(config);
  EXPECT_EQ(s.x.ToString(), "[?,?,7]");
  EXPECT_TRUE(Matches(s.x, {100, 9, 7}));
  EXPECT_TRUE(Matches(s.x, {-1, -1, 7}));  // unknown on the actual side too (TensorRT build time)
  EXPECT_FALSE(Matches(s.x, {100, 9, 8}));
  EXPECT_FALSE(Matches(s.x, {100, 9}));
  EXPECT_FALSE(Matches(s.x, {100, 9, 7, 1}));
  EXPECT_FALSE(Matches(s.kernel, {7, 15}));
  EXPECT_FALSE(Matches(s.bias, {2, 16}));
  EXPECT_EQ(s.kernel.ToString(), "[7,16]");
}

}  // namespace
}  // namespace tftrt_masking
