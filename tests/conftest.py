"""Shared test setup: import path, quiet TensorFlow, seeded random inputs, tf_keras."""

import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Plain `pytest tests/` from the repository root: the package lives in python/.
_PYTHON_DIR = Path(__file__).resolve().parent.parent / "python"
if str(_PYTHON_DIR) not in sys.path:
  sys.path.insert(0, str(_PYTHON_DIR))


@pytest.fixture
def rng(request):
  """A NumPy generator seeded from the test's name: random but reproducible."""
  seed = zlib.crc32(request.node.nodeid.encode())
  return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def tf_keras():
  """The tf_keras module; the test is skipped where tf_keras is not installed."""
  from tftrt_masking import _keras  # pylint: disable=import-outside-toplevel

  module = _keras.tf_keras_or_none()
  if module is None:
    pytest.skip("tf_keras is not installed")
  return module
