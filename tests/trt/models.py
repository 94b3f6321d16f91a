"""Models the TF-TRT tests export as SavedModels.

Keras models use Keras' own layers (what a user starts from); rewritten ones
go through tftrt_masking.rewrite (what a user converts). Models built directly
on the ops cover what Keras layers cannot express (float64, weights that are
not constants).
"""

from __future__ import annotations

import numpy as np

FEATURES = 8
UNITS = 32
DENSE_UNITS = 4


def keras_model(cell: str = "lstm", bidirectional: bool = False, units: int = UNITS):
  """Masking(0.) -> <cell>(units) [inside Bidirectional] -> Dense, Keras' own layers."""
  import keras  # pylint: disable=import-outside-toplevel

  keras.utils.set_random_seed(0)
  layer_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
                 "simple_rnn": keras.layers.SimpleRNN}[cell]
  recurrent = layer_class(units)
  if bidirectional:
    recurrent = keras.layers.Bidirectional(recurrent)
  inputs = keras.Input((None, FEATURES), name="x")
  y = keras.layers.Masking(0.0)(inputs)
  y = recurrent(y)
  y = keras.layers.Dense(DENSE_UNITS)(y)
  return keras.Model(inputs, y)


def rewritten_model(cell: str = "lstm", bidirectional: bool = False, units: int = UNITS):
  """keras_model() with Masking and the recurrence swapped for this project's ops."""
  from tftrt_masking import rewrite  # pylint: disable=import-outside-toplevel

  model, report = rewrite.rewrite_model(keras_model(cell, bidirectional, units))
  kept = [layer for layer in report.layers if not layer.replaced]
  if kept:
    raise AssertionError(f"rewrite kept Keras layers: {report.summary()}")
  return model


def export_keras(model, directory) -> str:
  """Writes a SavedModel with a serving_default signature over x [None, None, F]."""
  model.export(str(directory), format="tf_saved_model", verbose=False)
  return str(directory)


def export_ops_lstm(directory, dtype: str = "float32", constant_weights: bool = True) -> str:
  """Masking -> MaskedLSTM -> MatMul + bias built directly on the ops.

  constant_weights=False passes the LSTM kernel as a signature input, so it is
  not a constant in the frozen graph.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  from tftrt_masking import ops, recurrent_ops  # pylint: disable=import-outside-toplevel

  rng = np.random.default_rng(0)
  def weight(*shape):
    return tf.Variable(rng.standard_normal(shape).astype(dtype) * 0.3)

  class Module(tf.Module):
    def __init__(self):
      super().__init__()
      self.kernel = weight(FEATURES, 4 * UNITS)
      self.recurrent_kernel = weight(UNITS, 4 * UNITS)
      self.bias = weight(4 * UNITS)
      self.dense = weight(UNITS, DENSE_UNITS)
      self.dense_bias = weight(DENSE_UNITS)

    def forward(self, x, kernel):
      y, mask = ops.masking(x, 0.0, output_mode="where")
      h, _, _ = recurrent_ops.masked_lstm(y, kernel, self.recurrent_kernel, self.bias, mask=mask)
      return {"y": tf.matmul(h, self.dense) + self.dense_bias}

  module = Module()
  x_spec = tf.TensorSpec([None, None, FEATURES], dtype, name="x")
  if constant_weights:
    signature = tf.function(lambda x: module.forward(x, module.kernel), input_signature=[x_spec])
  else:
    kernel_spec = tf.TensorSpec([FEATURES, 4 * UNITS], dtype, name="kernel")
    signature = tf.function(module.forward, input_signature=[x_spec, kernel_spec])
  tf.saved_model.save(module, str(directory), signatures=signature)
  return str(directory)
