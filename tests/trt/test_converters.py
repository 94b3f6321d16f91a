"""The TF-TRT converter library: registration of our converters, lazy plugin
registration without TensorRT, and `convert` falling back to the report."""

import ctypes
import sys
from pathlib import Path

import pytest

from tftrt_masking import _loader, conversion, load_ops, segments

OUR_OPS = ("Masking", "MaskedLSTM", "MaskedGRU", "MaskedSimpleRNN")

needs_converters = pytest.mark.skipif(
    _loader.converters_library_path() is None,
    reason="TF-TRT converter library not built (no TensorRT 8 headers found by configure.py; "
    "see trt_converter/README.md)")


def _libnvinfer_loadable() -> bool:
  try:
    ctypes.CDLL("libnvinfer.so.8")
    return True
  except OSError:
    return False


@needs_converters
def test_converters_are_registered_after_load():
  from tensorflow.compiler.tf2tensorrt import _pywrap_py_utils  # pylint: disable=import-outside-toplevel

  load_ops()
  registered = set(_pywrap_py_utils.get_registered_op_converters())
  assert set(OUR_OPS) <= registered
  # TF's own converters are still there next to ours.
  assert {"MatMul", "Relu"} <= registered


@needs_converters
def test_plugin_registration_without_tensorrt_is_an_error_not_an_abort():
  if _libnvinfer_loadable():
    pytest.skip("libnvinfer.so.8 is installed here; this checks machines without TensorRT")
  with pytest.raises(conversion.ConversionError, match="libnvinfer"):
    conversion.register_trt_plugins()


@needs_converters
def test_plugin_library_exports_the_tensorrt_entry_points():
  library = ctypes.CDLL(str(_loader.converters_library_path()))
  for symbol in ("getPluginCreators", "setLoggerFinder", "initTftrtMaskingPlugins",
                 "TftrtMaskingRegisterPlugins"):
    assert hasattr(library, symbol), symbol


@needs_converters
def test_convert_without_tensorrt_says_so_and_reports(tmp_path, capsys):
  if _libnvinfer_loadable():
    pytest.skip("TensorRT is installed here: convert would really convert")
  sys.path.insert(0, str(Path(__file__).resolve().parent))
  import models  # pylint: disable=import-outside-toplevel

  source = models.export_ops_lstm(tmp_path / "model")
  result = conversion.convert_saved_model(source, tmp_path / "out")
  assert not result.converted and result.output_dir is None
  assert not (tmp_path / "out").exists()
  assert result.message.startswith("convert: TensorRT is not available here")
  assert "\n" not in result.message
  engine = result.report.engines_holding("MaskedLSTM")
  assert len(engine) == 1 and engine[0].holds("Masking")

  from tftrt_masking.__main__ import main  # pylint: disable=import-outside-toplevel

  assert main(["convert", source, str(tmp_path / "out2"), "--precision", "FP16"]) == 0
  out = capsys.readouterr().out
  assert out.splitlines()[0].startswith("convert: TensorRT is not available here")
  assert "1 TensorRT engine(s):" in out


@pytest.mark.skipif(segments.tf_trt_missing_reason() is None, reason="this TensorFlow has TF-TRT")
def test_convert_without_tf_trt_says_so_in_one_line(tmp_path, capsys):
  sys.path.insert(0, str(Path(__file__).resolve().parent))
  import models  # pylint: disable=import-outside-toplevel
  from tftrt_masking.__main__ import main  # pylint: disable=import-outside-toplevel

  source = models.export_ops_lstm(tmp_path / "model")
  assert main(["convert", source, str(tmp_path / "out")]) == 1
  assert capsys.readouterr().out.splitlines() == [
      f"convert: {segments.tf_trt_missing_reason()}; nothing converted"]
  assert not (tmp_path / "out").exists()
  available, reason = conversion.tensorrt_available()
  assert not available and reason == segments.tf_trt_missing_reason()


def test_bad_precision_is_a_clear_error(tmp_path):
  with pytest.raises(conversion.ConversionError, match="precision_mode must be one of"):
    conversion.convert_saved_model(tmp_path, tmp_path / "out", precision_mode="INT4")
