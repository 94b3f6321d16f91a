// The shapes a masked recurrence's tensors must have, from one MaskedRnnConfig.
// The TF op kernel, the TF-TRT converter and the TensorRT plugin all check
// their inputs against MaskedRnnExpectedShapes(), so the three cannot drift.
//
// A separate header from masked_rnn.h (host code only): the CUDA kernels do
// not include it.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_SHAPES_H_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_SHAPES_H_

#include <cstdint>
#include <string>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {

// An extent not known yet (batch and time while a TensorRT network is built).
constexpr int64_t kAnyExtent = -1;

struct ExpectedShape {
  int rank = 0;
  int64_t dims[3] = {0, 0, 0};

  // True when `actual` has this rank and every extent equals ours; a negative
  // extent on either side (unknown) matches anything.
  bool Matches(const int64_t* actual, int actual_rank) const;
  // "[?,?,16]".
  std::string ToString() const;
};

struct MaskedRnnShapes {
  ExpectedShape x;                 // [B, T, F]
  ExpectedShape mask;              // [B, T]
  ExpectedShape kernel;            // [F, G*U]
  ExpectedShape recurrent_kernel;  // [U, G*U]
  ExpectedShape bias;              // [G*U]; GRU reset_after [2, G*U]; [0] without bias
  ExpectedShape initial_h;         // [B, U]
  ExpectedShape initial_c;         // [B, U]; rank 0 unless LSTM
  ExpectedShape output;            // [B, T, U] with return_sequences, else [B, U]
  ExpectedShape final_h;           // [B, U]
  ExpectedShape final_c;           // [B, U]; rank 0 unless LSTM
};

// config.batch and config.time may be kAnyExtent. The TF op passes an empty
// bias ([0]) when use_bias is false; the TensorRT plugin has no bias input then.
MaskedRnnShapes MaskedRnnExpectedShapes(const MaskedRnnConfig& config);

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_SHAPES_H_
