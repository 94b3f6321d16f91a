"""Masking: a drop-in for keras.layers.Masking that runs as one op.

`Masking` is a Keras 3 layer; `TfKerasMasking` is the same layer for tf_keras
models (made by `tf_keras_layers()`). Both keep their Keras' exact behaviour,
including the masked-output formula (Keras >= 3.15 'where', tf_keras and older
Keras 3 'multiply'), and fall back to Keras' own formula where the op cannot
serve: integer inputs and vector mask values.
"""

from __future__ import annotations

import functools
import numbers

import keras
import numpy as np
import tensorflow as tf

from tftrt_masking import _keras, ops
from tftrt_masking.layers.tf_keras_base import TfKerasDropIn


def _set_keras_mask(outputs, mask):
  """Attaches the mask the way the Keras TF backend does (`_keras_mask`)."""
  try:
    from keras.src import backend  # pylint: disable=import-outside-toplevel
    backend.set_keras_mask(outputs, mask)
  except (ImportError, AttributeError):
    outputs._keras_mask = mask  # pylint: disable=protected-access


class MaskingBehaviour:
  """The layer's logic, shared by the Keras 3 and the tf_keras class."""

  output_mode = "where"

  def __init__(self, mask_value=0.0, **kwargs):
    super().__init__(**kwargs)
    # A serialized tensor mask_value (Keras 3 get_config of a tensor).
    if isinstance(mask_value, dict) and mask_value.get("config", None):
      mask_value = keras.saving.deserialize_keras_object(mask_value)
    self.mask_value = mask_value
    self.supports_masking = True

  def op_can_serve(self, inputs) -> bool:
    """True when the Masking op computes this call (else Keras' formula does)."""
    scalar = isinstance(self.mask_value, numbers.Real) and not isinstance(self.mask_value, bool)
    return scalar and tf.as_dtype(inputs.dtype) in ops.MASKING_DTYPES

  def op_mask_value(self, inputs):
    """The mask value for ops.masking, which compares as Keras 3 does."""
    del inputs
    return self.mask_value

  def not_equal(self, inputs):
    """Keras' own comparison, where the op does not serve."""
    return keras.ops.not_equal(inputs, self.mask_value)

  def call(self, inputs):
    # `inputs` are already autocast to the compute dtype, as Keras' own call sees them.
    if self.op_can_serve(inputs):
      outputs, mask = ops.masking(inputs, self.op_mask_value(inputs),
                                  output_mode=self.output_mode)
    else:
      keep = tf.reduce_any(self.not_equal(inputs), axis=-1, keepdims=True)
      if self.output_mode == "where":
        outputs = tf.where(keep, inputs, tf.zeros_like(inputs))
      else:
        outputs = inputs * tf.cast(keep, inputs.dtype)
      mask = tf.squeeze(keep, axis=-1)
    _set_keras_mask(outputs, mask)
    return outputs

  def compute_mask(self, inputs, mask=None):
    del mask  # Masking replaces any incoming mask.
    return self.any_differs(inputs)

  def any_differs(self, inputs):
    return tf.reduce_any(self.not_equal(inputs), axis=-1)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), "mask_value": self.mask_value}


@keras.saving.register_keras_serializable(package="tftrt_masking")
class Masking(MaskingBehaviour, keras.layers.Layer):
  """Drop-in for keras.layers.Masking (Keras 3); computed by the Masking op."""

  output_mode = _keras.default_masking_output_mode()

  def __init__(self, mask_value=0.0, **kwargs):
    super().__init__(mask_value=mask_value, **kwargs)
    if hasattr(self, "_build_at_init"):
      self._build_at_init()

  def any_differs(self, inputs):
    # Keras 3 calls this on symbolic KerasTensors while it builds a functional
    # model, and the layers after this one then take their mask from the
    # operations recorded here. Recording the Masking op (not NotEqual/Any,
    # which TF-TRT cannot convert) keeps the mask inside the TensorRT engine.
    if self.op_can_serve(inputs):
      return MaskOfMasking(self.mask_value, self.output_mode)(inputs)
    return keras.ops.any(keras.ops.not_equal(inputs, self.mask_value), axis=-1)


@keras.saving.register_keras_serializable(package="tftrt_masking")
class MaskOfMasking(keras.Operation):
  """The mask output of the Masking op as a Keras 3 operation."""

  def __init__(self, mask_value, output_mode):
    super().__init__()
    self.mask_value = mask_value
    self.output_mode = output_mode

  def call(self, inputs):
    return ops.masking(inputs, self.mask_value, output_mode=self.output_mode)[1]

  def compute_output_spec(self, inputs):
    return keras.KerasTensor(inputs.shape[:-1], dtype="bool")

  def get_config(self):
    return {"mask_value": self.mask_value, "output_mode": self.output_mode}


@functools.lru_cache(maxsize=None)
def tf_keras_masking_class():
  """The tf_keras flavour of Masking (None where tf_keras is not importable)."""
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is None:
    return None

  @tf_keras.utils.register_keras_serializable(package="tftrt_masking")
  class TfKerasMasking(TfKerasDropIn, MaskingBehaviour, tf_keras.layers.Layer):
    """Drop-in for tf_keras.layers.Masking; computed by the Masking op."""

    output_mode = "multiply"  # tf_keras: inputs * cast(mask)

    def op_mask_value(self, inputs):
      # tf_keras' tf.not_equal converts the mask value to x's dtype and compares
      # there: float16 0.1 rows are masked, a float64 x keeps 1e300. The same
      # conversion TF makes (NumPy's, round to nearest even), as a NumPy scalar
      # of that dtype, which ops.masking takes at its own value.
      with np.errstate(over="ignore"):
        return np.asarray(self.mask_value, dtype=tf.as_dtype(inputs.dtype).as_numpy_dtype)[()]

    def not_equal(self, inputs):
      return tf.not_equal(inputs, self.mask_value)

  return TfKerasMasking
