// Activations of the Keras recurrent cells, one definition for host and device
// so that the CPU kernel and the CUDA kernels compute the same functions.
#ifndef TFTRT_MASKING_KERNELS_RNN_CELL_MATH_H_
#define TFTRT_MASKING_KERNELS_RNN_CELL_MATH_H_

#include <cmath>

#include "kernels/rnn/masked_rnn.h"

#if defined(__CUDACC__)
#define TFTRT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define TFTRT_HOST_DEVICE inline
#endif

namespace tftrt_masking {

template <typename Acc>
TFTRT_HOST_DEVICE Acc Sigmoid(Acc x) {
  return Acc(1) / (Acc(1) + exp(-x));
}

template <typename Acc>
TFTRT_HOST_DEVICE Acc Clamp(Acc x, Acc lo, Acc hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// Applies a Keras activation in the accumulation type Acc (float or double).
template <typename Acc>
TFTRT_HOST_DEVICE Acc Activate(Activation activation, Acc x) {
  switch (activation) {
    case Activation::kTanh:
      return tanh(x);
    case Activation::kSigmoid:
      return Sigmoid(x);
    case Activation::kRelu:
      return x > Acc(0) ? x : Acc(0);
    case Activation::kLinear:
      return x;
    case Activation::kHardSigmoid:  // Keras 3: relu6(x + 3) / 6
      return Clamp(x + Acc(3), Acc(0), Acc(6)) / Acc(6);
    case Activation::kHardSigmoidKeras2:  // tf_keras: clip(0.2 x + 0.5, 0, 1)
      return Clamp(Acc(0.2) * x + Acc(0.5), Acc(0), Acc(1));
  }
  return x;
}

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_CELL_MATH_H_
