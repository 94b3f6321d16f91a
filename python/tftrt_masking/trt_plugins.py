"""Whether TensorRT is usable here, and registering our TensorRT plugin
creators with it. A module of its own so that _loader (which registers the
plugins when it loads the libraries) does not import `conversion`, which
imports _loader."""

from __future__ import annotations

import ctypes

from tftrt_masking import _loader
from tftrt_masking.errors import ConversionError


def tf_trt_missing_reason() -> str | None:
  """Why this TensorFlow has no TF-TRT, in one line; None where it has it.

  TF-TRT left TensorFlow after 2.17: the ops, layers and rewrite work on newer
  TensorFlow, the segment report and the conversion do not. (TF 2.21 still ships
  tf2tensorrt's Python wrapper, linked to no TensorRT: the build info tells.)"""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  if not tf.sysconfig.get_build_info().get("is_tensorrt_build", False):
    return (f"TensorFlow {tf.__version__} has no TF-TRT (built without TensorRT; 2.17 was the "
            "last TensorFlow with it; the ops, layers and rewrite work without it)")
  return None


def tensorrt_available() -> tuple:
  """(available, reason). Safe without TensorRT: is_tensorrt_enabled() only tries
  to load libnvinfer (get_loaded_tensorrt_version() would abort the process)."""
  no_tf_trt = tf_trt_missing_reason()
  if no_tf_trt:
    return False, no_tf_trt
  from tensorflow.compiler.tf2tensorrt import _pywrap_py_utils  # pylint: disable=import-outside-toplevel

  if not _pywrap_py_utils.is_tensorrt_enabled():
    return False, ("TensorRT is not available here: TensorFlow could not load libnvinfer "
                   "(TF 2.17 needs TensorRT 8.6.x on the library path)")
  if _loader.converters_library_path() is None:
    return False, ("the tftrt_masking converter library was not built (no TensorRT 8 headers "
                   "at configure time; see trt_converter/README.md)")
  return True, ""


def register_trt_plugins() -> None:
  """Registers our TensorRT plugin creators (Masking, MaskedRnn) with the loaded
  TensorRT. Needed before an engine that uses them is deserialized; the
  converters also do it on their first conversion. Raises ConversionError with
  the reason when TensorRT or the converter library is missing."""
  path = _loader.converters_library_path()
  if path is None:
    raise ConversionError("cannot register the TensorRT plugins: the converter library "
                          f"{_loader.CONVERTERS_LIBRARY} was not built")
  _loader.load_ops()
  library = ctypes.CDLL(str(path))
  register = library.TftrtMaskingRegisterPlugins
  register.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
  register.restype = ctypes.c_int
  error = ctypes.create_string_buffer(512)
  if not register(error, len(error)):
    raise ConversionError(f"cannot register the TensorRT plugins: {error.value.decode()}")
