// Gradients of the masked recurrences (backpropagation through time with
// Keras' carry rules). TF-free, like masked_rnn.h; the TF gradient ops are thin
// adapters over these entry points.
//
// Forward, in processing order tau = 0..T-1 (t = tau, or T-1-tau when
// go_backwards), see masked_rnn.h:
//   (o, s') = cell(x_t, s);  s = m_t ? s' : s;  y_tau = m_t ? o : (zof ? 0 : y_{tau-1})
// Backward, tau = T-1..0, with g = dL/dy_tau (d_output[tau] when
// return_sequences, d_output at tau = T-1 otherwise) plus what flows back from
// y_{tau+1} through a masked carry:
//   m_t:   d(o) += g; backprop through the cell into dx_t, dW, dU, db, ds_prev;
//          nothing flows on through the output carry.
//   !m_t:  ds_prev = ds (the state passes through unchanged);
//          the output carry passes g on to y_{tau-1} unless zero_output_for_mask.
// y_{-1} = 0 is a constant; d_initial_h / d_initial_c are ds after tau = 0.
// Masked (row, step) pairs contribute nothing to dx_t (it is 0 there) or to the
// weight gradients.
//
// Design: the gradient recomputes the forward pass (keeping each step's state
// and gate values in scratch memory) instead of the forward op saving them. The
// forward op's signature is what SavedModels, TF-TRT converters and TensorRT
// plugins carry, and inference should not pay for training's memory; the
// recompute costs one more forward, about a third of a training step.
#ifndef TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_GRAD_H_
#define TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_GRAD_H_

#include <cstddef>

#include "kernels/rnn/masked_rnn.h"

namespace tftrt_masking {

// Pointers of one gradient call. The forward inputs are MaskedRnnArgs' (same
// shapes, same nullptr conventions). Incoming gradients may be nullptr (= 0).
// Every outgoing gradient the config has must be given (d_bias only with a
// bias, d_initial_c only for LSTM); they are overwritten, not accumulated.
// float16/bfloat16 accumulate in float32 and round once at the end.
template <typename T, typename MaskT>
struct MaskedRnnGradArgs {
  MaskedRnnArgs<T, MaskT> forward;  // x, mask, weights, initial states (outputs unused)
  const T* d_output = nullptr;      // [B, T, U] if return_sequences else [B, U]
  const T* d_final_h = nullptr;     // [B, U]
  const T* d_final_c = nullptr;     // [B, U], LSTM only
  T* d_x = nullptr;                 // [B, T, F]
  T* d_kernel = nullptr;            // [F, G*U]
  T* d_recurrent_kernel = nullptr;  // [U, G*U]
  T* d_bias = nullptr;              // BiasSize() elements
  T* d_initial_h = nullptr;         // [B, U]
  T* d_initial_c = nullptr;         // [B, U], LSTM only
};

// The same pointers, type-erased for the GPU launch API.
struct MaskedRnnGpuGradArgs {
  MaskedRnnGpuArgs forward;  // outputs unused
  const void* d_output = nullptr;
  const void* d_final_h = nullptr;
  const void* d_final_c = nullptr;
  void* d_x = nullptr;
  void* d_kernel = nullptr;
  void* d_recurrent_kernel = nullptr;
  void* d_bias = nullptr;
  void* d_initial_h = nullptr;
  void* d_initial_c = nullptr;
};

// Runs the gradient on the calling thread. Returns nullptr, or a message that
// says what is wrong (ValidateMaskedRnnConfig's, or a missing pointer).
template <typename T, typename MaskT>
const char* MaskedRnnGradCpu(const MaskedRnnConfig& config,
                             const MaskedRnnGradArgs<T, MaskT>& args);

// Device scratch memory LaunchMaskedRnnGrad needs for this config (bytes).
size_t MaskedRnnGpuGradWorkspaceBytes(const MaskedRnnConfig& config, DType dtype);

// Runs the gradient on the GPU. workspace must hold at least
// MaskedRnnGpuGradWorkspaceBytes(). Returns a cudaError_t value (0 = success).
// The debug knobs (rnn_kernel_choice.h's RnnKernelOptions, grad_*) come from
// the environment, read once per call.
int LaunchMaskedRnnGrad(const MaskedRnnConfig& config, const MaskedRnnGpuGradArgs& args,
                        void* workspace, size_t workspace_bytes, GpuStream stream);

// The same with explicit options (the bench harness' A/B paths).
struct RnnKernelOptions;
int LaunchMaskedRnnGradWithOptions(const MaskedRnnConfig& config, const MaskedRnnGpuGradArgs& args,
                                   const RnnKernelOptions& options, void* workspace,
                                   size_t workspace_bytes, GpuStream stream);

}  // namespace tftrt_masking

#endif  // TFTRT_MASKING_KERNELS_RNN_MASKED_RNN_GRAD_H_
