"""convert_saved_model: TF-TRT conversion of a SavedModel that uses this
project's ops, with our converters and TensorRT plugins loaded.

    from tftrt_masking import convert_saved_model
    result = convert_saved_model("model_dir", "model_trt", precision_mode="FP16",
                                 input_fn=lambda: [np.zeros((8, 50, 16), np.float32)])
    print(result.summary())

It wraps tf.experimental.tensorrt.Converter (TrtGraphConverterV2) in dynamic
shape mode; input_fn yields example inputs whose shapes become the optimization
profiles ('Range' strategy: min..max over what it yields) and the engines are
built before saving. Where TensorRT cannot be loaded it says so in one line and
returns the offline segment report instead (what would go into each engine).

Loading a converted model elsewhere: call tftrt_masking.load_ops() and then
register_trt_plugins() before the first run, so TensorRT finds our plugin
creators when it deserializes the engines.

CLI: python -m tftrt_masking convert INPUT_DIR OUTPUT_DIR [--precision FP16]
     [--batch-sizes 1,32] [--time-steps 10,100]
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import itertools
import sys

from tftrt_masking import _loader
from tftrt_masking import segments

PRECISION_MODES = ("FP32", "FP16")


class ConversionError(RuntimeError):
  """The conversion could not be done (bad arguments, missing libraries)."""


@dataclasses.dataclass
class ConversionResult:
  converted: bool  # False: TensorRT absent, nothing written, `report` says what would convert
  output_dir: str | None
  message: str  # one line: what happened
  engines: list  # [segments.EngineSegment] of the converted graph (converted=True)
  report: segments.SegmentReport | None = None  # the offline report (converted=False)

  def summary(self) -> str:
    if not self.converted:
      return self.message + ("\n" + self.report.summary() if self.report else "")
    lines = [self.message]
    for engine in self.engines:
      lines.append(f"  {engine.name}: {', '.join(sorted(set(engine.op_types)))}")
    return "\n".join(lines)


def tensorrt_available() -> tuple:
  """(available, reason). Safe without TensorRT: is_tensorrt_enabled() only tries
  to load libnvinfer (get_loaded_tensorrt_version() would abort the process)."""
  no_tf_trt = segments.tf_trt_missing_reason()
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


def convert_saved_model(input_dir, output_dir, *, input_fn=None, precision_mode: str = "FP32",
                        signature_key: str = segments.DEFAULT_SIGNATURE,
                        minimum_segment_size: int = segments.DEFAULT_MINIMUM_SEGMENT_SIZE,
                        max_workspace_size_bytes: int = 1 << 30) -> ConversionResult:
  """Converts a SavedModel with TF-TRT (dynamic shapes) and saves it to output_dir.

  input_fn: a callable returning an iterable of input tuples (one tensor per
  signature input); their shapes define the TensorRT optimization profiles and
  the engines are built before saving. Without it, engines are built at the
  first run of the converted model.
  """
  precision_mode = precision_mode.upper()
  if precision_mode not in PRECISION_MODES:
    raise ConversionError(f"precision_mode must be one of {PRECISION_MODES}, "
                          f"got {precision_mode!r}")
  _loader.load_ops()
  available, reason = tensorrt_available()
  if not available and segments.tf_trt_missing_reason():
    return ConversionResult(False, None, f"convert: {reason}; nothing converted", [])
  if not available:
    report = segments.segment_report(input_dir, signature_key, minimum_segment_size,
                                     precision_mode)
    return ConversionResult(False, None, f"convert: {reason}; nothing converted. "
                            "Offline segment report instead:", [], report)

  from tensorflow.python.compiler.tensorrt import trt_convert as trt  # pylint: disable=import-outside-toplevel

  register_trt_plugins()
  params = trt.TrtConversionParams(precision_mode=precision_mode,
                                   minimum_segment_size=minimum_segment_size,
                                   max_workspace_size_bytes=max_workspace_size_bytes)
  converter = trt.TrtGraphConverterV2(input_saved_model_dir=str(input_dir),
                                      input_saved_model_signature_key=signature_key,
                                      conversion_params=params, use_dynamic_shape=True,
                                      dynamic_shape_profile_strategy="Range")
  converted = converter.convert()
  if input_fn is not None:
    converter.build(input_fn=input_fn)
  converter.save(str(output_dir))
  engines = segments.engines_in_graph_def(converted.graph.as_graph_def())
  return ConversionResult(True, str(output_dir),
                          f"convert: wrote {output_dir} with {len(engines)} TensorRT engine(s)",
                          engines)


def profile_input_fn(saved_model_dir, batch_sizes, time_steps,
                     signature_key: str = segments.DEFAULT_SIGNATURE):
  """An input_fn for convert_saved_model: zeros for each (batch, time) pair,
  filling a signature input's unknown dimensions as [batch, time, ...]."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  _loader.load_ops()
  function = tf.saved_model.load(str(saved_model_dir)).signatures[signature_key]
  specs = function.structured_input_signature[1]
  names = sorted(specs)

  def shape_for(spec, batch, time):
    fill = [batch, time]
    shape = []
    for i, dim in enumerate(spec.shape.as_list()):
      if dim is None:
        if i >= len(fill):
          raise ConversionError(f"input {spec.name} has an unknown dimension {i} beyond "
                                "[batch, time]; give an input_fn")
        dim = fill[i]
      shape.append(dim)
    return shape

  def input_fn():
    for batch, time in itertools.product(batch_sizes, time_steps):
      yield tuple(np.zeros(shape_for(specs[n], batch, time), specs[n].dtype.as_numpy_dtype)
                  for n in names)

  return input_fn


# ----------------------------------------------------------------------- CLI


def _int_list(text: str) -> list:
  try:
    values = [int(v) for v in text.split(",") if v.strip()]
  except ValueError as e:
    raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from e
  if not values or min(values) <= 0:
    raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
  return values


def _cli(args) -> int:
  try:
    input_fn = None
    available, _ = tensorrt_available()
    if available and args.batch_sizes and args.time_steps:
      input_fn = profile_input_fn(args.input_dir, args.batch_sizes, args.time_steps,
                                  args.signature)
    result = convert_saved_model(args.input_dir, args.output_dir, input_fn=input_fn,
                                 precision_mode=args.precision, signature_key=args.signature,
                                 minimum_segment_size=args.minimum_segment_size)
  except (ConversionError, segments.SegmentReportError) as e:
    print(f"convert: {e}", file=sys.stderr)
    return 1
  print(result.summary())
  # Nothing converted and no report: this TensorFlow has no TF-TRT.
  return 0 if result.converted or result.report else 1


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser(
      "convert", help="TF-TRT conversion with the tftrt_masking converters and plugins",
      description="Converts a SavedModel with TF-TRT (dynamic shapes). Without TensorRT it "
      "says so and prints the offline segment report instead.")
  parser.add_argument("input_dir", help="input SavedModel directory")
  parser.add_argument("output_dir", help="where to write the converted SavedModel")
  parser.add_argument("--precision", default="FP32", choices=PRECISION_MODES)
  parser.add_argument("--signature", default=segments.DEFAULT_SIGNATURE)
  parser.add_argument("--minimum-segment-size", type=int,
                      default=segments.DEFAULT_MINIMUM_SEGMENT_SIZE)
  parser.add_argument("--batch-sizes", type=_int_list, default=None,
                      help="batch sizes for the optimization profile, e.g. 1,32")
  parser.add_argument("--time-steps", type=_int_list, default=None,
                      help="sequence lengths for the optimization profile, e.g. 10,100")
  parser.set_defaults(func=_cli)
