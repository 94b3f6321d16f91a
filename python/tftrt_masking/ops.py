"""Python wrappers of the ops, with argument checks that name what is wrong."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tftrt_masking import _keras
from tftrt_masking._loader import load_ops

MASKING_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)
OUTPUT_MODES = ("where", "multiply")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def keras_mask_value(mask_value, dtype) -> float:
  """The number Keras 3 compares an x of `dtype` against, as a float64 (exact).

  `keras.ops.not_equal(x, mask_value)` converts a Python float to a float32
  tensor (an error beyond float32's range) and a Python int to an integer one,
  then casts both sides to their common dtype, which holds x exactly. So x is
  compared, exactly, against: a Python float's float32 rounding (0.1 means
  0.100000001490116...; a float16 x never equals it); an integer rounded to x's
  dtype; a NumPy floating scalar's own value (np.float64(1e300) for float64 x).
  """
  dtype = tf.as_dtype(dtype)
  if isinstance(mask_value, (bool, np.bool_)):
    raise TypeError(f"tftrt_masking.ops.masking: mask_value must be a number, got {mask_value!r}")
  if isinstance(mask_value, float):  # Python float (np.float64 is one too: its own dtype rules)
    if type(mask_value) is float:  # pylint: disable=unidiomatic-typecheck
      if math.isfinite(mask_value) and abs(mask_value) > _FLOAT32_MAX:
        raise ValueError(
            f"tftrt_masking.ops.masking: mask_value {mask_value!r} is beyond float32's range; "
            f"Keras 3 takes a Python float mask value as float32 (and refuses this one). "
            f"Pass np.float64({mask_value!r}) to compare float64 inputs against it.")
      return float(np.float32(mask_value))
    return float(mask_value)
  value = np.asarray(mask_value)
  numeric = value.dtype.kind in "iuf" or value.dtype == tf.bfloat16.as_numpy_dtype
  if value.shape != () or not numeric:
    raise TypeError(f"tftrt_masking.ops.masking: mask_value must be a scalar number, "
                    f"got {mask_value!r}")
  if value.dtype.kind in "iu":  # Keras: the common dtype of an integer and x is x's
    with np.errstate(over="ignore"):
      value = value.astype(dtype.as_numpy_dtype)
  return float(value)


def masking(x, mask_value=0.0, output_mode: str | None = None, name=None):
  """Keras Masking as one op: returns (output, mask).

  mask = any(x != mask_value, axis=-1) with shape x.shape[:-1], compared as
  Keras 3 compares (`keras_mask_value`: a Python float is its float32 rounding;
  exact, never in a 16-bit x's dtype); output is x with masked steps zeroed.
  output_mode: 'where' (+0.0, Keras >= 3.15) or 'multiply' (x * mask, tf_keras
  / Keras < 3.15); None picks the installed Keras' behaviour.
  """
  x = tf.convert_to_tensor(x)
  if x.dtype not in MASKING_DTYPES:
    raise TypeError(f"tftrt_masking.ops.masking: x must be float16, bfloat16, float32 or "
                    f"float64, got {x.dtype.name}")
  if x.shape.rank is not None and x.shape.rank < 2:
    raise ValueError(f"tftrt_masking.ops.masking: x must have rank >= 2 "
                     f"(batch, ..., features), got shape {x.shape}")
  if output_mode is None:
    output_mode = _keras.default_masking_output_mode()
  if output_mode not in OUTPUT_MODES:
    raise ValueError(f"tftrt_masking.ops.masking: output_mode must be one of {OUTPUT_MODES}, "
                     f"got {output_mode!r}")
  if tf.is_tensor(mask_value):
    if not hasattr(mask_value, "numpy"):
      raise TypeError(f"tftrt_masking.ops.masking: mask_value must be a number known when the "
                      f"graph is built, got a symbolic tensor: {mask_value!r}")
    mask_value = mask_value.numpy()  # a NumPy scalar of the tensor's dtype, as Keras keeps it
  exact = keras_mask_value(mask_value, x.dtype)
  # exact_mask_value decides (text keeps every float64: TF attrs have no double);
  # mask_value, its float32 rounding, is for readers of the graph.
  with np.errstate(over="ignore"):
    readable = float(np.float32(exact))
  return load_ops().masking(x, mask_value=readable, exact_mask_value=repr(exact),
                            output_mode=output_mode, name=name)
