"""Which Keras is installed, and the behaviour that follows from its version."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def keras_version() -> tuple:
  import keras  # pylint: disable=import-outside-toplevel
  return tuple(int(p) for p in keras.__version__.split(".")[:2] if p.isdigit())


def default_masking_output_mode() -> str:
  """'where' for Keras >= 3.15, 'multiply' for Keras 3.0-3.14 (spec section 1)."""
  return "where" if keras_version() >= (3, 15) else "multiply"


def tf_keras_or_none():
  """The tf_keras module where it is importable, else None."""
  try:
    import tf_keras  # pylint: disable=import-outside-toplevel
  except ImportError:
    return None
  return tf_keras
