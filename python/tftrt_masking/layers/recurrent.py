"""LSTM, GRU and SimpleRNN: drop-ins for Keras' own layers, computed by the ops
MaskedLSTM, MaskedGRU and MaskedSimpleRNN.

Each layer subclasses Keras' own class, so the constructor, the weights
(cell.kernel, cell.recurrent_kernel, cell.bias), get_config, build and
checkpoints are Keras' own: a Keras checkpoint or get_weights() loads unchanged.
Only the recurrence changes: Keras 3 layers override `inner_loop`, tf_keras
layers `call`. Where the ops cannot serve a configuration (see
`unservable_reasons`) or at training time (the ops have no gradient, and
dropout masks are Keras'), the layer runs Keras' own loop on the same weights.

`LSTM`, `GRU`, `SimpleRNN` are Keras 3 layers; `tf_keras_recurrent_classes()`
makes the tf_keras flavours (TfKerasLSTM, TfKerasGRU, TfKerasSimpleRNN).
"""

from __future__ import annotations

import functools
import numbers
import re

import keras
import numpy as np
import tensorflow as tf

from tftrt_masking import _keras, recurrent_ops


def _python_training_flag(training):
  """training as a Python bool, or None when it is only known at run time (a tensor)."""
  if training is None:
    return False
  if isinstance(training, (bool, numbers.Integral, np.bool_)):
    return bool(training)
  return None


def _op_name(layer_name: str) -> str:
  """The layer's name as a TF op name (Keras allows characters TF rejects)."""
  name = re.sub(r"[^A-Za-z0-9_.\-]", "_", layer_name or "")
  return name if re.match(r"[A-Za-z0-9.]", name) else "masked_rnn" + name


class RecurrentBehaviour:
  """What the three layers share, for both Keras 3 and tf_keras.

  Subclasses set `op_cell` to 'lstm', 'gru' or 'simple_rnn'.
  """

  op_cell = "lstm"

  def unservable_reasons(self) -> list:
    """Why the ops cannot compute this layer's configuration (empty: they can).

    Training time is not listed: it always runs Keras' loop (see
    `op_serves_call`). The rewrite reports these reasons.
    """
    reasons = []
    if self.stateful:
      reasons.append("stateful=True: the state variables stay in Keras' loop")
    if self.unroll:
      reasons.append("unroll=True: Keras unrolls the loop into per-step ops")
    if getattr(self, "time_major", False):
      reasons.append("time_major=True: the ops take [batch, time, features]")
    if getattr(self, "return_runtime", False):
      reasons.append("return_runtime=True: a tf_keras internal output the ops do not have")
    cell = self.cell
    implemented = ", ".join(recurrent_ops.ACTIVATION_NAMES)
    if recurrent_ops.activation_name(cell.activation) is None:
      reasons.append(f"activation {recurrent_ops.describe_activation(cell.activation)} is not "
                     f"one the ops implement ({implemented})")
    if self.op_cell != "simple_rnn" and recurrent_ops.activation_name(
        cell.recurrent_activation) is None:
      reasons.append("recurrent_activation "
                     f"{recurrent_ops.describe_activation(cell.recurrent_activation)} is not "
                     f"one the ops implement ({implemented})")
    compute_dtype = tf.as_dtype(self.compute_dtype or tf.float32)
    if compute_dtype not in recurrent_ops.RNN_DTYPES:
      reasons.append(f"compute dtype {compute_dtype.name}: the ops take float16, bfloat16, "
                     "float32 or float64")
    return reasons

  def servable(self) -> bool:
    """True when the ops compute this layer at inference."""
    return not self.unservable_reasons()

  def op_serves_call(self, training) -> bool:
    """True when this call runs the op, False when it runs Keras' loop.

    Training runs Keras' loop: the ops have no gradient and dropout masks are
    Keras'. A training flag only known at run time counts as training.
    """
    return self.servable() and _python_training_flag(training) is False

  def op_outputs(self, sequences, initial_state, mask):
    """Runs the op: returns (output, [final states]) as the Keras loop would."""
    cell = self.cell
    common = {
        "go_backwards": self.go_backwards,
        "return_sequences": self.return_sequences,
        "zero_output_for_mask": self.zero_output_for_mask,
        "activation": cell.activation,
        "name": _op_name(self.name),
    }
    bias = cell.bias if cell.use_bias else None
    args = (sequences, cell.kernel, cell.recurrent_kernel, bias, mask, list(initial_state))
    if self.op_cell == "lstm":
      output, h, c = recurrent_ops.masked_lstm(
          *args, recurrent_activation=cell.recurrent_activation, **common)
      return output, [h, c]
    if self.op_cell == "gru":
      output, h = recurrent_ops.masked_gru(
          *args, recurrent_activation=cell.recurrent_activation, reset_after=cell.reset_after,
          **common)
      return output, [h]
    output, h = recurrent_ops.masked_simple_rnn(*args, **common)
    return output, [h]


class KerasRecurrentBehaviour(RecurrentBehaviour):
  """Keras 3: RNN.call prepares the states and formats the outputs; the op
  replaces `inner_loop` only."""

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.supports_jit = False  # the ops have no XLA kernel: keep jit_compile="auto" off
    self._op_call = False

  def call(self, sequences, initial_state=None, mask=None, training=False):
    self._op_call = self.op_serves_call(training)
    try:
      return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
    finally:
      self._op_call = False

  def _maybe_config_dropout_masks(self, cell, input_sequence, input_state):
    # Keras' RNN.call draws the cell's dropout masks before the loop whatever
    # `training` is: that advances the seed variable, and a graph that writes a
    # variable cannot be frozen for TF-TRT. The op uses no dropout mask.
    if not self._op_call:
      super()._maybe_config_dropout_masks(cell, input_sequence, input_state)

  def inner_loop(self, sequences, initial_state, mask, training=False):
    if not self.op_serves_call(training):
      return super().inner_loop(sequences, initial_state, mask, training=training)
    if isinstance(mask, (list, tuple)):
      mask = mask[0]
    if not isinstance(initial_state, (list, tuple)):
      initial_state = [initial_state]
    output, states = self.op_outputs(sequences, initial_state, mask)
    # RNN.call returns the second value with return_sequences and the first
    # without: the op already returned the one that is asked for.
    return output, output, states


@keras.saving.register_keras_serializable(package="tftrt_masking")
class LSTM(KerasRecurrentBehaviour, keras.layers.LSTM):
  """Drop-in for keras.layers.LSTM; computed by the MaskedLSTM op."""

  op_cell = "lstm"


@keras.saving.register_keras_serializable(package="tftrt_masking")
class GRU(KerasRecurrentBehaviour, keras.layers.GRU):
  """Drop-in for keras.layers.GRU (reset_after True or False); MaskedGRU op."""

  op_cell = "gru"


@keras.saving.register_keras_serializable(package="tftrt_masking")
class SimpleRNN(KerasRecurrentBehaviour, keras.layers.SimpleRNN):
  """Drop-in for keras.layers.SimpleRNN; computed by the MaskedSimpleRNN op."""

  op_cell = "simple_rnn"


class TfKerasBuildFromConfig:
  """Loading a tf_keras .keras file: a custom layer is built from the stored
  input shape, a JSON list, which tf_keras' RNN.build reads as a list of
  shapes (its own layers never take this path). Pass it on as a tuple."""

  def build_from_config(self, config):
    shape = config.get("input_shape")
    if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape):
      config = dict(config, input_shape=tuple(shape))
    super().build_from_config(config)


class TfKerasRecurrentBehaviour(TfKerasBuildFromConfig, RecurrentBehaviour):
  """tf_keras: its LSTM/GRU `call` holds the whole loop (and the cuDNN
  selection), so the op replaces `call`, keeping tf_keras' input handling."""

  def call(self, inputs, mask=None, training=None, initial_state=None):
    first = inputs[0] if isinstance(inputs, list) else inputs
    if isinstance(first, tf.RaggedTensor) or not self.op_serves_call(training):
      return super().call(inputs, mask=mask, training=training, initial_state=initial_state)
    inputs, initial_state, _ = self._process_inputs(inputs, initial_state, None)
    if isinstance(mask, list):
      mask = mask[0]
    output, states = self.op_outputs(inputs, initial_state, mask)
    if self.return_state:
      return [output] + states
    return output


@functools.lru_cache(maxsize=None)
def tf_keras_recurrent_classes():
  """{'LSTM': TfKerasLSTM, 'GRU': ..., 'SimpleRNN': ...} for tf_keras models
  ({} where tf_keras is not importable)."""
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is None:
    return {}
  register = tf_keras.utils.register_keras_serializable(package="tftrt_masking")

  @register
  class TfKerasLSTM(TfKerasRecurrentBehaviour, tf_keras.layers.LSTM):
    """Drop-in for tf_keras.layers.LSTM; computed by the MaskedLSTM op."""

    op_cell = "lstm"

  @register
  class TfKerasGRU(TfKerasRecurrentBehaviour, tf_keras.layers.GRU):
    """Drop-in for tf_keras.layers.GRU; computed by the MaskedGRU op."""

    op_cell = "gru"

  @register
  class TfKerasSimpleRNN(TfKerasRecurrentBehaviour, tf_keras.layers.SimpleRNN):
    """Drop-in for tf_keras.layers.SimpleRNN; computed by the MaskedSimpleRNN op."""

    op_cell = "simple_rnn"

  return {"LSTM": TfKerasLSTM, "GRU": TfKerasGRU, "SimpleRNN": TfKerasSimpleRNN}
