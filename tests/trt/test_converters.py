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

  # Nothing converted: the report is printed, and the exit code says it failed.
  assert main(["convert", source, str(tmp_path / "out2"), "--precision", "FP16"]) == 1
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


def _fake_converted_model(tmp_path):
  """A SavedModel of our ops with a TRTEngineOp node added whose native segment
  is the function holding MaskedLSTM: what convert_saved_model writes, as far
  as the plugin check reads it (nothing here is run)."""
  from tensorflow.core.protobuf import saved_model_pb2  # pylint: disable=import-outside-toplevel

  sys.path.insert(0, str(Path(__file__).resolve().parent))
  import models  # pylint: disable=import-outside-toplevel

  source = Path(models.export_ops_lstm(tmp_path / "model"))
  model = saved_model_pb2.SavedModel()
  model.ParseFromString((source / "saved_model.pb").read_bytes())
  graph = model.meta_graphs[0].graph_def
  segment = next(f for f in graph.library.function
                 if any(n.op == "MaskedLSTM" for n in f.node_def))
  engine = graph.node.add(name="TRTEngineOp_000_000", op="TRTEngineOp")
  engine.attr["segment_func"].func.name = segment.signature.name
  (source / "saved_model.pb").write_bytes(model.SerializeToString())
  return source


def test_engines_with_plugins_finds_engines_holding_our_ops(tmp_path):
  sys.path.insert(0, str(Path(__file__).resolve().parent))
  import models  # pylint: disable=import-outside-toplevel

  plain = models.export_ops_lstm(tmp_path / "plain")
  assert conversion.engines_with_plugins(plain) == []
  assert conversion.engines_with_plugins(_fake_converted_model(tmp_path)) == ["TRTEngineOp_000_000"]
  with pytest.raises(conversion.ConversionError, match="cannot read"):
    conversion.engines_with_plugins(tmp_path / "missing")


def test_converted_model_without_plugins_is_a_clear_error_not_a_crash(tmp_path):
  available, _ = conversion.tensorrt_available()
  if available:
    pytest.skip("TensorRT is available here: the plugins would be registered and the model loaded")
  converted = _fake_converted_model(tmp_path)
  with pytest.raises(conversion.ConversionError,
                     match=r"holds 1 TensorRT engine\(s\) with tftrt_masking plugins "
                     r"\(TRTEngineOp_000_000\) that cannot be loaded here: "):
    conversion.load_converted_model(converted)


def test_load_converted_model_loads_a_model_without_engines(tmp_path):
  import numpy as np  # pylint: disable=import-outside-toplevel

  sys.path.insert(0, str(Path(__file__).resolve().parent))
  import models  # pylint: disable=import-outside-toplevel

  loaded = conversion.load_converted_model(models.export_ops_lstm(tmp_path / "plain"))
  signature = loaded.signatures["serving_default"]
  spec = signature.structured_input_signature[1]
  (name, tensor_spec), = spec.items()
  shape = [2 if d is None else d for d in tensor_spec.shape.as_list()]
  outputs = signature(**{name: np.ones(shape, np.float32)})
  assert all(np.isfinite(v.numpy()).all() for v in outputs.values())
