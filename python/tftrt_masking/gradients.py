"""Gradients of the ops, registered with TensorFlow when the op library loads.

MaskedLSTM / MaskedGRU / MaskedSimpleRNN: the ...Grad ops (backpropagation
through the masked recurrence with Keras' carry rules; they recompute the
forward pass, see kernels/rnn/masked_rnn_grad.h). Masking: as Keras' own
layer differentiates (the mask has no gradient).
"""

from __future__ import annotations

import tensorflow as tf

# Attributes the gradient op takes over from its forward op.
_RNN_ATTRS = {
    "MaskedLSTM": ("activation", "recurrent_activation", "use_bias", "go_backwards",
                   "return_sequences", "zero_output_for_mask"),
    "MaskedGRU": ("activation", "recurrent_activation", "reset_after", "use_bias",
                  "go_backwards", "return_sequences", "zero_output_for_mask"),
    "MaskedSimpleRNN": ("activation", "use_bias", "go_backwards", "return_sequences",
                        "zero_output_for_mask"),
}
_GRAD_WRAPPERS = {
    "MaskedLSTM": "masked_lstm_grad",
    "MaskedGRU": "masked_gru_grad",
    "MaskedSimpleRNN": "masked_simple_rnn_grad",
}
_INPUT_NAMES = ("x", "mask", "kernel", "recurrent_kernel", "bias", "initial_h", "initial_c")
_INCOMING_NAMES = ("d_output", "d_final_h", "d_final_c")

_registered = False


def _masked_rnn_grad(module, op, *grads):
  """[d_x, None (mask), d_kernel, d_recurrent_kernel, d_bias, d_initial_h(, d_initial_c)]."""
  incoming = {
      name: tf.zeros_like(output) if grad is None else grad
      for name, output, grad in zip(_INCOMING_NAMES, op.outputs, grads)
  }
  inputs = dict(zip(_INPUT_NAMES, op.inputs))
  attrs = {name: op.get_attr(name) for name in _RNN_ATTRS[op.type]}
  results = getattr(module, _GRAD_WRAPPERS[op.type])(**inputs, **incoming, **attrs)
  return [results[0], None, *results[1:]]


def _masking_grad(op, d_output, unused_d_mask):
  """Keras 3.15+ ('where'): where(mask, d, 0); tf_keras ('multiply'): d * cast(mask)
  (a NaN or inf gradient at a masked step stays NaN there, as it does in Keras)."""
  keep = tf.expand_dims(op.outputs[1], -1)
  if op.get_attr("output_mode") == b"multiply":
    return d_output * tf.cast(keep, d_output.dtype)
  return tf.where(keep, d_output, tf.zeros_like(d_output))


def register_gradients(module) -> None:
  """Registers the gradient functions once per process (module: the op library)."""
  global _registered  # pylint: disable=global-statement
  if _registered:
    return
  for op_type in _GRAD_WRAPPERS:
    tf.RegisterGradient(op_type)(
        lambda op, *grads: _masked_rnn_grad(module, op, *grads))
  tf.RegisterGradient("Masking")(_masking_grad)
  _registered = True
