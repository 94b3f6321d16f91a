// Masked recurrences (LSTM, GRU, SimpleRNN) with Keras' masked semantics.
//
// The step rule (shared/docs/keras-masking-spec.md section 2), processing order
// tau = 0..T-1 over t = tau, or t = T-1-tau when go_backwards:
//   (o, s') = cell(x_t, s)
//   s       = m_t ? s' : s                     (state kept bit-exact)
//   y_tau   = m_t ? o : (zero_output_for_mask ? 0 : y_{tau-1}),  y_{-1} = 0
// outputs are stored in processing order; the last output is y_{T-1}.
//
// Weights use Keras' own layout, gate blocks side by side on the last axis:
//   kernel [F, G*U], recurrent_kernel [U, G*U], G = 4 (i,f,c,o) / 3 (z,r,h) / 1.
//   bias [G*U]; GRU with reset_after: [2, G*U] = [input bias; recurrent bias].
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_H_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_H_

#include <cstddef>
#include <cstdint>

#include "kernels/common/types.h"

namespace tftrt_masking {

// Values are serialized in the TensorRT plugin: never renumber.
enum class RnnCell : int32_t { kLstm = 0, kGru = 1, kSimpleRnn = 2 };

// Values are serialized in the TensorRT plugin: never renumber.
enum class Activation : int32_t {
  kTanh = 0,
  kSigmoid = 1,
  kRelu = 2,
  kLinear = 3,
  kHardSigmoid = 4,        // Keras 3: relu6(x + 3) / 6
  kHardSigmoidKeras2 = 5,  // tf_keras: clip(0.2 * x + 0.5, 0, 1)
};

// Parses a Keras activation name ("tanh", "sigmoid", "relu", "linear",
// "hard_sigmoid", "hard_sigmoid_keras2"); returns false when unknown.
bool ParseActivation(const char* name, Activation* activation);
const char* ActivationName(Activation activation);

struct MaskedRnnConfig {
  RnnCell cell = RnnCell::kLstm;
  int64_t batch = 0;
  int64_t time = 0;
  int64_t input_size = 0;  // F
  int64_t units = 0;       // U
  Activation activation = Activation::kTanh;
  Activation recurrent_activation = Activation::kSigmoid;  // LSTM, GRU
  bool has_bias = true;
  bool reset_after = true;  // GRU only
  bool go_backwards = false;
  bool return_sequences = false;
  bool zero_output_for_mask = false;
};

// 4 for LSTM, 3 for GRU, 1 for SimpleRNN.
int GateCount(RnnCell cell);
// Number of bias elements the config expects (0 without bias).
int64_t BiasSize(const MaskedRnnConfig& config);

// Checks sizes and enums. Returns nullptr when valid, else a message that
// says what is wrong. Both the TF op and the TensorRT plugin call it before
// launching anything.
const char* ValidateMaskedRnnConfig(const MaskedRnnConfig& config);

// Pointers of one call. T is the element type, MaskT bool or int32_t.
template <typename T, typename MaskT>
struct MaskedRnnArgs {
  const T* x = nullptr;                 // [B, T, F]
  const MaskT* mask = nullptr;          // [B, T], nonzero = keep; nullptr = all
  const T* kernel = nullptr;            // [F, G*U]
  const T* recurrent_kernel = nullptr;  // [U, G*U]
  const T* bias = nullptr;              // BiasSize() elements, or nullptr
  const T* initial_h = nullptr;         // [B, U]; nullptr = zeros
  const T* initial_c = nullptr;         // [B, U], LSTM only; nullptr = zeros
  T* output = nullptr;  // [B, T, U] if return_sequences else [B, U]
  T* final_h = nullptr;  // [B, U]
  T* final_c = nullptr;  // [B, U], LSTM only
};

// The same pointers, type-erased for the GPU launch API (dtype / mask_dtype
// say what they point to).
struct MaskedRnnGpuArgs {
  DType dtype = DType::kFloat32;
  MaskDType mask_dtype = MaskDType::kBool;
  const void* x = nullptr;
  const void* mask = nullptr;
  const void* kernel = nullptr;
  const void* recurrent_kernel = nullptr;
  const void* bias = nullptr;
  const void* initial_h = nullptr;
  const void* initial_c = nullptr;
  void* output = nullptr;
  void* final_h = nullptr;
  void* final_c = nullptr;
};

// Device scratch memory LaunchMaskedRnn needs for this config (bytes).
size_t MaskedRnnGpuWorkspaceBytes(const MaskedRnnConfig& config, DType dtype);

// Runs the masked recurrence on the GPU. workspace must hold at least
// MaskedRnnGpuWorkspaceBytes(). Returns a cudaError_t value (0 = success).
// The debug knobs (rnn_kernel_choice.h's RnnKernelOptions) come from the
// environment, read once per call.
int LaunchMaskedRnn(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                    void* workspace, size_t workspace_bytes, GpuStream stream);

// The same with explicit options (the bench harness' A/B paths).
struct RnnKernelOptions;
int LaunchMaskedRnnWithOptions(const MaskedRnnConfig& config, const MaskedRnnGpuArgs& args,
                               const RnnKernelOptions& options, void* workspace,
                               size_t workspace_bytes, GpuStream stream);

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_H_
