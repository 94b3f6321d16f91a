"""Python wrappers of the ops, with argument checks that name what is wrong."""

from __future__ import annotations

import tensorflow as tf

from tftrt_masking import _keras
from tftrt_masking._loader import load_ops

MASKING_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)
OUTPUT_MODES = ("where", "multiply")


def masking(x, mask_value: float = 0.0, output_mode: str | None = None, name=None):
  """Keras Masking as one op: returns (output, mask).

  mask = any(x != mask_value, axis=-1) with shape x.shape[:-1]; output is x with
  masked steps zeroed. output_mode: 'where' (+0.0, Keras >= 3.15) or 'multiply'
  (x * mask, tf_keras / Keras < 3.15); None picks the installed Keras' behaviour.
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
  try:
    mask_value = float(mask_value)
  except (TypeError, ValueError) as e:
    raise TypeError(f"tftrt_masking.ops.masking: mask_value must be a scalar number, "
                    f"got {mask_value!r}") from e
  return load_ops().masking(x, mask_value=mask_value, output_mode=output_mode, name=name)
