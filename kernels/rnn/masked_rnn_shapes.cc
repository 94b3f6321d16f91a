#include "kernels/rnn/masked_rnn_shapes.h"

#include <initializer_list>

namespace tftrt_masking {
namespace {

ExpectedShape Shape(std::initializer_list<int64_t> dims) {
  ExpectedShape shape;
  for (int64_t extent : dims) shape.dims[shape.rank++] = extent;
  return shape;
}

}  // namespace

bool ExpectedShape::Matches(const int64_t* actual, int actual_rank) const {
  if (actual_rank != rank) return false;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] >= 0 && actual[i] >= 0 && actual[i] != dims[i]) return false;
  }
  return true;
}

std::string ExpectedShape::ToString() const {
  std::string text = "[";
  for (int i = 0; i < rank; ++i) {
    if (i > 0) text += ",";
    text += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return text + "]";
}

MaskedRnnShapes MaskedRnnExpectedShapes(const MaskedRnnConfig& config) {
  const int64_t batch = config.batch, time = config.time;
  const int64_t units = config.units, features = config.input_size;
  const int64_t gate_units = GateCount(config.cell) * units;
  const bool lstm = config.cell == RnnCell::kLstm;
  MaskedRnnShapes shapes;
  shapes.x = Shape({batch, time, features});
  shapes.mask = Shape({batch, time});
  shapes.kernel = Shape({features, gate_units});
  shapes.recurrent_kernel = Shape({units, gate_units});
  if (!config.has_bias) {
    shapes.bias = Shape({0});
  } else if (config.cell == RnnCell::kGru && config.reset_after) {
    shapes.bias = Shape({2, gate_units});
  } else {
    shapes.bias = Shape({gate_units});
  }
  shapes.initial_h = Shape({batch, units});
  if (lstm) shapes.initial_c = Shape({batch, units});
  shapes.output = config.return_sequences ? Shape({batch, time, units}) : Shape({batch, units});
  shapes.final_h = Shape({batch, units});
  if (lstm) shapes.final_c = Shape({batch, units});
  return shapes;
}

}  // namespace tftrt_masking
