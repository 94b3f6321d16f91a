"""Finds and loads the compiled libraries: the op library and, where it was
built, the TF-TRT converter library.

Search order for each library: $TFTRT_MASKING_LIB_DIR, the package folder
(an installed copy), the Bazel runfiles tree (under `bazel test`), and the
source tree's bazel-bin/.
"""

from __future__ import annotations

import os
from pathlib import Path

from tftrt_masking.errors import UserError

OPS_LIBRARY = "_tftrt_masking_ops.so"
CONVERTERS_LIBRARY = "_tftrt_masking_converters.so"

# Not resolve(): under `bazel test` this file is a symlink into the source tree,
# and the libraries under test are the ones in the runfiles tree beside it.
_PACKAGE_DIR = Path(os.path.abspath(__file__)).parent
# python/tftrt_masking -> repository (or runfiles) root.
_ROOT = _PACKAGE_DIR.parent.parent


class LibraryNotBuiltError(UserError, ImportError):
  """The compiled op library is missing: it has to be built with Bazel first."""


class TensorFlowMismatchError(ImportError):
  """An installed wheel's libraries were built against another TensorFlow minor."""


def _candidates(filename: str, bazel_package: str):
  if os.environ.get("TFTRT_MASKING_LIB_DIR"):
    yield Path(os.environ["TFTRT_MASKING_LIB_DIR"]) / filename
  yield _PACKAGE_DIR / filename
  yield _ROOT / bazel_package / filename
  yield _ROOT / "bazel-bin" / bazel_package / filename


def find_library(filename: str, bazel_package: str) -> Path | None:
  """The first existing copy of a built library, or None."""
  for candidate in _candidates(filename, bazel_package):
    if candidate.is_file():
      return candidate
  return None


def converters_library_path() -> Path | None:
  """The TF-TRT converter library, or None where it was not built (no TensorRT headers)."""
  return find_library(CONVERTERS_LIBRARY, "trt_converter")


_ops_module = None


def load_ops():
  """Loads the op library (once), registers the ops' gradients and returns its
  module of generated op wrappers.

  Also loads the TF-TRT converter library when it was built, so that the
  converters are registered before any TF-TRT conversion, and, where TensorRT
  itself is present, registers our TensorRT plugins so that a converted
  SavedModel's engines deserialize in a fresh process.
  """
  global _ops_module
  if _ops_module is not None:
    return _ops_module
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  path = find_library(OPS_LIBRARY, "tf_ops")
  if path is None:
    looked = "\n  ".join(str(p) for p in _candidates(OPS_LIBRARY, "tf_ops"))
    raise LibraryNotBuiltError(
        f"tftrt_masking: the op library {OPS_LIBRARY} was not found. Looked in:\n  {looked}\n"
        "Build it from the repository root with:\n"
        "  python configure.py && bazel build //tf_ops:_tftrt_masking_ops.so\n"
        "(scripts/setup.sh does both), or set TFTRT_MASKING_LIB_DIR to its folder.")
  if path.parent == _PACKAGE_DIR:
    _check_built_for(tf.__version__)
  module = tf.load_op_library(str(path))
  converters = converters_library_path()
  if converters is not None:
    tf.load_library(str(converters))
  from tftrt_masking import gradients  # pylint: disable=import-outside-toplevel

  gradients.register_gradients(module)
  # Set before registering plugins: registration calls load_ops() again.
  _ops_module = module
  if converters is not None:
    _register_plugins_if_tensorrt_present()
  return module


def _check_built_for(tf_version: str) -> None:
  """A wheel's libraries link one TensorFlow minor's C++ ABI: another minor would
  fail with undefined symbols (or worse), so say which wheel is needed instead."""
  try:
    from tftrt_masking import _build_info  # pylint: disable=import-outside-toplevel
  except ImportError:
    return  # a checkout: configure.py built against the TensorFlow it found
  built = _build_info.TF_VERSION.split(".")[:2]
  if tf_version.split(".")[:2] != built:
    raise TensorFlowMismatchError(
        f"tftrt_masking: this package's libraries were built against TensorFlow "
        f"{_build_info.TF_VERSION}, but TensorFlow {tf_version} is installed. Install the "
        f"tftrt_masking wheel built for TensorFlow {'.'.join(tf_version.split('.')[:2])} "
        "(scripts/build_wheel.sh in a virtual environment with that TensorFlow).")


def _register_plugins_if_tensorrt_present() -> None:
  from tftrt_masking import trt_plugins  # pylint: disable=import-outside-toplevel

  available, _ = trt_plugins.tensorrt_available()
  if available:
    trt_plugins.register_trt_plugins()
