// Host-side helpers of the masked recurrence API: names, sizes, validation.
#include <cstring>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {
namespace {

struct ActivationEntry {
  const char* name;
  Activation activation;
};

constexpr ActivationEntry kActivations[] = {
    {"tanh", Activation::kTanh},
    {"sigmoid", Activation::kSigmoid},
    {"relu", Activation::kRelu},
    {"linear", Activation::kLinear},
    {"hard_sigmoid", Activation::kHardSigmoid},
    {"hard_sigmoid_keras2", Activation::kHardSigmoidKeras2},
};

bool IsKnownActivation(Activation activation) {
  for (const ActivationEntry& entry : kActivations) {
    if (entry.activation == activation) return true;
  }
  return false;
}

}  // namespace

bool ParseActivation(const char* name, Activation* activation) {
  if (name == nullptr) return false;
  for (const ActivationEntry& entry : kActivations) {
    if (std::strcmp(entry.name, name) == 0) {
      *activation = entry.activation;
      return true;
    }
  }
  return false;
}

const char* ActivationName(Activation activation) {
  for (const ActivationEntry& entry : kActivations) {
    if (entry.activation == activation) return entry.name;
  }
  return "unknown";
}

int GateCount(RnnCell cell) {
  switch (cell) {
    case RnnCell::kLstm:
      return 4;
    case RnnCell::kGru:
      return 3;
    case RnnCell::kSimpleRnn:
      return 1;
  }
  return 0;
}

int64_t BiasSize(const MaskedRnnConfig& config) {
  if (!config.has_bias) return 0;
  const int64_t gates = GateCount(config.cell) * config.units;
  const bool two_biases = config.cell == RnnCell::kGru && config.reset_after;
  return two_biases ? 2 * gates : gates;
}

const char* ValidateMaskedRnnConfig(const MaskedRnnConfig& config) {
  if (GateCount(config.cell) == 0) return "unknown cell type";
  if (config.batch < 0) return "batch size must be >= 0";
  if (config.time < 0) return "number of timesteps must be >= 0";
  if (config.input_size < 0) return "input feature size must be >= 0";
  if (config.units <= 0) return "units must be > 0";
  if (!IsKnownActivation(config.activation)) return "unknown activation";
  if (!IsKnownActivation(config.recurrent_activation)) return "unknown recurrent_activation";
  // Element offsets are int64 everywhere; keep one gate row inside int32 for
  // the GPU kernels' per-row indexing.
  if (GateCount(config.cell) * config.units > (int64_t{1} << 30)) return "units too large";
  return nullptr;
}

}  // namespace tftrt_masking
