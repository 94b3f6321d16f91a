"""What scripts/build_wheel.sh puts next to the package (//pip_package:wheel_contents),
and the loader's refusal of a wheel built for another TensorFlow minor."""

import sys
import types
from pathlib import Path

import pytest

from tftrt_masking import _loader

# In the runfiles tree beside tests/ (absolute(), not resolve(): this file is a symlink).
_CONTENTS = Path(__file__).absolute().parent.parent.parent / "pip_package" / "wheel_contents"


def read_build_info() -> dict:
  info = {}
  exec((_CONTENTS / "_build_info.py").read_text(), info)  # pylint: disable=exec-used
  return info


def test_build_info_names_this_tensorflow_and_the_built_libraries():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  info = read_build_info()
  assert info["TF_VERSION"] == tf.__version__
  assert info["LIBRARIES"][0] == _loader.OPS_LIBRARY
  has_converters = _loader.converters_library_path() is not None
  assert (_loader.CONVERTERS_LIBRARY in info["LIBRARIES"]) == has_converters
  assert info["CUDA_KERNELS"] == bool(info["CUDA_ARCHS"])


def test_manifest_lists_the_libraries_and_the_build_info():
  manifest = Path(str(_CONTENTS) + ".txt").read_text().split()
  info = read_build_info()
  assert [Path(p).name for p in manifest] == info["LIBRARIES"] + ["_build_info.py"]
  assert manifest[0] == "tf_ops/" + _loader.OPS_LIBRARY


@pytest.fixture
def fake_build_info(monkeypatch):
  module = types.ModuleType("tftrt_masking._build_info")
  monkeypatch.setitem(sys.modules, "tftrt_masking._build_info", module)
  return module


def test_a_wheel_for_another_tensorflow_minor_is_refused_with_the_reason(fake_build_info):
  fake_build_info.TF_VERSION = "2.17.1"
  with pytest.raises(_loader.TensorFlowMismatchError,
                     match=r"built against TensorFlow 2\.17\.1, but TensorFlow 2\.21\.0 "
                     r"is installed.*built for TensorFlow 2\.21"):
    _loader._check_built_for("2.21.0")  # pylint: disable=protected-access


def test_the_same_minor_is_accepted(fake_build_info):
  fake_build_info.TF_VERSION = "2.17.0"
  _loader._check_built_for("2.17.1")  # pylint: disable=protected-access
