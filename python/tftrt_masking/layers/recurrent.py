"""LSTM, GRU and SimpleRNN: drop-ins for Keras' own layers, computed by the ops
MaskedLSTM, MaskedGRU and MaskedSimpleRNN.

Each layer subclasses Keras' own class, so the constructor, the weights
(cell.kernel, cell.recurrent_kernel, cell.bias), get_config, build and
checkpoints are Keras' own: a Keras checkpoint or get_weights() loads unchanged.
Only the recurrence changes: Keras 3 layers override `inner_loop`, tf_keras
layers `call`. The ops have gradients (gradients.py), so they serve training
as well as inference. Keras' own loop, on the same weights, runs what the ops
cannot serve: configurations listed by `unservable_reasons`, and, while
training, recurrent dropout and the dropout masks we cannot reproduce outside
the op (`training_loop_reasons`; `apply_input_dropout` says which we do).

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
from tftrt_masking.layers.tf_keras_base import TfKerasDropIn


# Input dropout masks tf_keras' LSTM / GRU draw per call on their
# cuDNN-or-standard path (one per gate; the first is used).
TF_KERAS_MASK_COUNTS = {"lstm": 4, "gru": 3}


def _op_name(layer_name: str) -> str:
  """The layer's name as a TF op name (Keras allows characters TF rejects)."""
  name = re.sub(r"[^A-Za-z0-9_.\-]", "_", layer_name or "")
  return name if re.match(r"[A-Za-z0-9.]", name) else "masked_rnn" + name


class RecurrentBehaviour:
  """What the three layers share, for both Keras 3 and tf_keras.

  Subclasses set `op_cell` to 'lstm', 'gru' or 'simple_rnn'; the Keras 3 and
  tf_keras classes below say how their Keras reads `training` and draws
  dropout masks.
  """

  op_cell = "lstm"

  def unservable_reasons(self) -> list:
    """Why the ops cannot compute this layer's configuration (empty: they can).

    Training with dropout has its own list (`training_loop_reasons`). The
    rewrite reports these reasons.
    """
    reasons = []
    if self.stateful:
      reasons.append("stateful=True: the state variables stay in Keras' loop")
    if self.unroll:
      reasons.append("unroll=True: Keras unrolls the loop into per-step ops")
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

  def training_flag(self, training):
    """`training` as a Python bool, or None where it is only known at run time."""
    if isinstance(training, (bool, numbers.Integral, np.bool_)):
      return bool(training)
    return None

  def training_loop_reasons(self) -> list:
    """Why a call that may drop out runs Keras' loop although the ops serve this
    configuration (empty: the op serves training too)."""
    reasons = []
    if self.cell.recurrent_dropout > 0:
      reasons.append("recurrent_dropout: the op drops nothing out of the recurrent state")
    return reasons + self.input_dropout_loop_reasons()

  def input_dropout_loop_reasons(self) -> list:
    """The input dropout masks `apply_input_dropout` cannot reproduce (by Keras line)."""
    return []

  def op_serves_call(self, training) -> bool:
    """True when this call runs the op, False when it runs Keras' loop.

    Without dropout `training` changes nothing; at inference no dropout
    applies; while training (or where that is only known at run time) the op
    serves unless `training_loop_reasons` says otherwise.
    """
    if not self.servable():
      return False
    cell = self.cell
    if not (cell.dropout > 0 or cell.recurrent_dropout > 0):
      return True
    return self.training_flag(training) is False or not self.training_loop_reasons()

  def training_notes(self) -> list:
    """How this layer trains, for the rewrite report (empty: no dropout)."""
    cell = self.cell
    if not (cell.dropout > 0 or cell.recurrent_dropout > 0):
      return []
    loop = self.training_loop_reasons()
    if loop:
      return ["dropout/recurrent_dropout: inference runs the op without dropout (no random "
              f"state is read or written); training runs Keras' loop ({'; '.join(loop)})"]
    return ["dropout: inference runs the op without dropout (no random state is read or "
            "written); training runs the op on the inputs dropped out by Keras' own masks"]

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
    self._op_inference = False

  def training_flag(self, training):
    # Keras 3 cells test `training and ...`: None is inference.
    return False if training is None else super().training_flag(training)

  def input_dropout_loop_reasons(self) -> list:
    cell = self.cell
    if cell.dropout == 0:
      return []
    if cell.dropout >= 1:
      return ["dropout=1: left to Keras' loop"]
    if getattr(cell, "dropout_mask_count", None):
      return ["implementation=1: one input dropout mask per gate"]
    return []

  def op_serves_call(self, training) -> bool:
    # A tensor flag: Keras 3 decides dropout in Python, its loop says how.
    dropout = self.cell.dropout > 0 or self.cell.recurrent_dropout > 0
    if dropout and self.training_flag(training) is None:
      return False
    return super().op_serves_call(training)

  def call(self, sequences, initial_state=None, mask=None, training=False):
    self._op_inference = self.op_serves_call(training) and not self.training_flag(training)
    try:
      return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
    finally:
      self._op_inference = False

  def _maybe_config_dropout_masks(self, cell, input_sequence, input_state):
    # Keras' RNN.call draws the cell's dropout masks before the loop whatever
    # `training` is: that advances the seed variable, and a graph that writes a
    # variable cannot be frozen for TF-TRT. An inference call of the op draws
    # none; a training call draws them as Keras does (`apply_input_dropout`).
    if not self._op_inference:
      super()._maybe_config_dropout_masks(cell, input_sequence, input_state)

  def apply_input_dropout(self, sequences, training):
    """Keras 3's input dropout, outside the op, on [B, T, F].

    As Keras 3 (LSTM, GRU: implementation 2; SimpleRNN): one mask of shape
    [B, F] (Keras' `cell.get_dropout_mask`, drawn by RNN.call from the cell's
    SeedGenerator, values 0 or 1/(1 - rate)), shared by all time steps and all
    gates, applied when training and 0 < dropout < 1. Bit-identical inputs to
    the gates as Keras' `inputs * dp_mask` per step.
    """
    if not (training and 0 < self.cell.dropout < 1):
      return sequences
    mask = self.cell.get_dropout_mask(sequences[:, 0, :])
    return sequences * tf.expand_dims(mask, 1)

  def inner_loop(self, sequences, initial_state, mask, training=False):
    if not self.op_serves_call(training):
      return super().inner_loop(sequences, initial_state, mask, training=training)
    if isinstance(mask, (list, tuple)):
      mask = mask[0]
    if not isinstance(initial_state, (list, tuple)):
      initial_state = [initial_state]
    sequences = self.apply_input_dropout(sequences, training)
    if not tf.as_dtype(sequences.dtype).is_floating:
      # Keras 3 takes integer and bool inputs: its matmul promotes them to the
      # compute dtype (bit-identical to casting first).
      sequences = tf.cast(sequences, self.compute_dtype)
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


class TfKerasRecurrentBehaviour(TfKerasDropIn, RecurrentBehaviour):
  """tf_keras: its LSTM/GRU `call` holds the whole loop (and the cuDNN
  selection), so the op replaces `call`, keeping tf_keras' input handling.

  tf_keras reads `training=None` as its learning phase (graph-mode `fit`
  calls layers so): a run-time flag, which tf_keras' own mask functions take.
  """

  def unservable_reasons(self) -> list:
    reasons = super().unservable_reasons()
    if self.time_major:
      reasons.append("time_major=True: the ops take [batch, time, features]")
    # tf_keras' LSTM stores `return_runtime`, its GRU `_return_runtime`.
    if getattr(self, "return_runtime", False) or getattr(self, "_return_runtime", False):
      reasons.append("return_runtime=True: a tf_keras internal output the ops do not have")
    return reasons

  def input_dropout_loop_reasons(self) -> list:
    if self.cell.dropout > 0 and not getattr(self, "_could_use_gpu_kernel", False):
      return ["tf_keras' own loop draws the input dropout masks (one per call eagerly, a new "
              "one at every step inside a tf.function, where its mask cache misses)"]
    return []

  def apply_input_dropout(self, inputs, training):
    """tf_keras' input dropout, outside the op, on [B, T, F].

    Served where tf_keras' LSTM / GRU would pick its cuDNN-or-standard
    function (`_could_use_gpu_kernel`: tanh/sigmoid, use_bias, GRU
    reset_after, no recurrent dropout, TF2): there tf_keras draws, before any
    loop, 4 (LSTM) or 3 (GRU) masks of the whole [B, T, F] input (a new mask
    per time step) from the layer's generator and applies the first to all
    gates. We call the same functions at the same point of `call` (after
    `_process_inputs`), so even TF's unseeded legacy RNG, whose op seed
    counts the graph's ops, draws the same masks. `training` may be None (the
    learning phase) or a tensor: tf_keras' `in_train_phase` inside resolves it.
    Elsewhere tf_keras' loop draws the masks itself (`input_dropout_loop_reasons`).
    """
    if self.cell.dropout == 0:
      return inputs
    self.reset_dropout_mask()
    masks = self.get_dropout_mask_for_cell(inputs, training,
                                           count=TF_KERAS_MASK_COUNTS[self.op_cell])
    return inputs * masks[0]

  def call(self, inputs, mask=None, training=None, initial_state=None):
    first = inputs[0] if isinstance(inputs, list) else inputs
    # Ragged inputs, and integer ones (which tf_keras rejects), take tf_keras' path.
    if (isinstance(first, tf.RaggedTensor) or not tf.as_dtype(first.dtype).is_floating
        or not self.op_serves_call(training)):
      return super().call(inputs, mask=mask, training=training, initial_state=initial_state)
    inputs, initial_state, _ = self._process_inputs(inputs, initial_state, None)
    if isinstance(mask, list):
      mask = mask[0]
    if self.training_flag(training) is not False:
      inputs = self.apply_input_dropout(inputs, training)
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
