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

Loading a converted model elsewhere: load_converted_model(path) (it loads our
ops and registers our plugin creators before TF-TRT deserializes the engines,
or says why it cannot).

The result counts the engines actually built (k of N, see engine_builds):
TF-TRT keeps a TRTEngineOp whose engine failed to build and runs its segment
in TensorFlow, so the number of TRTEngineOps says nothing about TensorRT.

CLI: python -m tftrt_masking convert INPUT_DIR OUTPUT_DIR [--precision FP16]
     [--batch-sizes 1,32 --time-steps 10,100] [--overwrite]; exit code 1 when
     nothing was converted.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from pathlib import Path

from tftrt_masking import _loader, model_files, segments
from tftrt_masking.errors import ConversionError
# Where TensorRT and our plugins stand; here for existing callers too.
from tftrt_masking.trt_plugins import register_trt_plugins, tensorrt_available

PRECISION_MODES = ("FP32", "FP16")


# What TF-TRT (TF 2.17) leaves of each TRTEngineOp in a saved model: save()
# calls SerializeTRTResource for every TRTEngineOp whose engine cache exists
# (build() ran it) and tracks the file as the asset
# "trt-serialized-engine.<last part of the node name>". The file is a TFRecord
# file with one TRTEngineInstance proto (1: input_shapes, 2: serialized_engine)
# per engine in the cache; engines that failed to build are skipped, so a
# segment whose build failed gets an asset with no engine, and TRTEngineOp
# runs its native segment (TensorFlow) instead. No asset: the engine was never
# built (no build() / input_fn): it is built at the first run.
ENGINE_ASSET_PREFIX = "trt-serialized-engine."
BUILT = "built"
BUILD_FAILED = "failed"
NOT_BUILT = "not built"
DAMAGED = "damaged"


@dataclasses.dataclass
class EngineBuild:
  """One TRTEngineOp of a converted model and whether its engine was built."""
  name: str  # the TRTEngineOp's name (last part), as in the asset file name
  op_types: list  # op types of its segment
  status: str  # BUILT, BUILD_FAILED, NOT_BUILT, DAMAGED

  def describe(self) -> str:
    ops = ", ".join(sorted(set(self.op_types))) or "?"
    if self.status == BUILT:
      return f"{self.name}: TensorRT engine built ({ops})"
    if self.status == BUILD_FAILED:
      return (f"{self.name}: engine build FAILED, this segment runs in TensorFlow "
              f"({ops}); the TensorRT log above says why")
    if self.status == DAMAGED:
      return f"{self.name}: its engine file is damaged, this segment cannot be trusted ({ops})"
    return f"{self.name}: engine not built yet, TF-TRT builds it at the first run ({ops})"


def _read_varint(data: bytes, position: int) -> tuple:
  value, shift = 0, 0
  while True:
    if position >= len(data) or shift > 63:
      raise ValueError("truncated varint")
    byte = data[position]
    position += 1
    value |= (byte & 0x7F) << shift
    shift += 7
    if not byte & 0x80:
      return value, position


def _serialized_engine_size(record: bytes, complete: bool = True) -> int:
  """Length of field 2 (serialized_engine) of a TRTEngineInstance record, 0 if
  absent. `record` may be only the start of the record (complete=False): the
  parse stops at field 2, which follows the small input shapes."""
  position = 0
  while position < len(record):
    key, position = _read_varint(record, position)
    field, wire_type = key >> 3, key & 7
    if wire_type == 0:
      _, position = _read_varint(record, position)
    elif wire_type == 2:
      length, position = _read_varint(record, position)
      if field == 2:
        return length
      position += length
    elif wire_type in (1, 5):
      position += 8 if wire_type == 1 else 4
    else:
      raise ValueError(f"unexpected wire type {wire_type}")
  if position > len(record) and complete:
    raise ValueError("a field runs past the end of the record")
  if not complete:
    raise ValueError("no serialized_engine within the first bytes of a long record")
  return 0


_RECORD_PREFIX_BYTES = 1 << 16


def _engine_file_status(path: Path) -> str:
  """BUILT if the TFRecord file (io::RecordWriter framing: uint64 length,
  uint32 CRC, data, uint32 CRC) holds a record with a non-empty serialized
  engine, BUILD_FAILED if it holds none, DAMAGED if its framing is broken.
  Reads only the start of each record: engines can be hundreds of MB."""
  size = path.stat().st_size
  offset = 0
  with open(path, "rb") as f:
    while offset < size:
      header = f.read(12)
      if len(header) < 12:
        return DAMAGED
      length = int.from_bytes(header[:8], "little")
      if offset + 12 + length + 4 > size:
        return DAMAGED
      complete = length <= _RECORD_PREFIX_BYTES
      try:
        engine_size = _serialized_engine_size(f.read(min(length, _RECORD_PREFIX_BYTES)), complete)
      except ValueError:
        return DAMAGED
      if engine_size:
        return BUILT
      offset += 12 + length + 4
      f.seek(offset)
  return BUILD_FAILED


def engine_builds(graph_def, saved_model_dir) -> list:
  """[EngineBuild] for every TRTEngineOp of a converted GraphDef (top level
  and function library, as trt_convert.py walks them), judged by the engine
  assets TF-TRT's save() wrote to saved_model_dir. Pure: reads only files."""
  functions = {f.signature.name: f for f in graph_def.library.function}
  nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
  builds = {}
  for node in nodes:
    if node.op != segments.TRT_ENGINE_OP:
      continue
    name = node.name.split("/")[-1]  # trt_convert._get_canonical_engine_name
    if name in builds:
      continue
    segment = functions.get(node.attr["segment_func"].func.name)
    op_types = [n.op for n in segment.node_def] if segment is not None else []
    asset = Path(saved_model_dir, "assets", ENGINE_ASSET_PREFIX + name)
    status = _engine_file_status(asset) if asset.is_file() else NOT_BUILT
    builds[name] = EngineBuild(name, op_types, status)
  return list(builds.values())


@dataclasses.dataclass
class ConversionResult:
  converted: bool  # False: nothing written (TensorRT absent: `report` says what would convert)
  output_dir: str | None
  message: str  # one line: what happened
  engines: list  # [segments.EngineSegment] of the converted graph (converted=True)
  report: segments.SegmentReport | None = None  # the offline report (converted=False)
  builds: list = dataclasses.field(default_factory=list)  # [EngineBuild] (converted=True)

  @property
  def built(self) -> list:
    return [b for b in self.builds if b.status == BUILT]

  @property
  def fell_back(self) -> list:
    """Segments that run in TensorFlow although TF-TRT made them a TRTEngineOp."""
    return [b for b in self.builds if b.status in (BUILD_FAILED, DAMAGED)]

  @property
  def anything_converted(self) -> bool:
    """An engine was built, or (no build requested) will be at the first run."""
    return self.converted and bool(self.builds) and len(self.fell_back) < len(self.builds)

  def summary(self) -> str:
    if not self.converted:
      return self.message + ("\n" + self.report.summary() if self.report else "")
    lines = [self.message]
    lines.extend("  " + build.describe() for build in self.builds)
    return "\n".join(lines)


def _build_message(output_dir, builds: list) -> str:
  if not builds:
    return (f"convert: wrote {output_dir}, but TF-TRT made no TensorRT engine of it: nothing "
            "was converted (`python -m tftrt_masking segments` says why each node stays)")
  built = sum(b.status == BUILT for b in builds)
  pending = sum(b.status == NOT_BUILT for b in builds)
  failed = len(builds) - built - pending
  text = f"convert: wrote {output_dir}: {built} of {len(builds)} TensorRT engine(s) built"
  if failed:
    text += f", {failed} fell back to TensorFlow"
  if pending:
    text += f", {pending} to be built at the first run (no input_fn / profile given)"
  return text


def convert_saved_model(input_dir, output_dir, *, input_fn=None, precision_mode: str = "FP32",
                        signature_key: str = segments.DEFAULT_SIGNATURE,
                        minimum_segment_size: int = segments.DEFAULT_MINIMUM_SEGMENT_SIZE,
                        max_workspace_size_bytes: int | None = None,
                        overwrite: bool = False) -> ConversionResult:
  """Converts a SavedModel with TF-TRT (dynamic shapes) and saves it to output_dir
  (never over input_dir; over an existing path only with `overwrite`).

  The result says which engines were actually built (`builds`, `built`,
  `fell_back`): TF-TRT keeps a TRTEngineOp whose engine failed to build and
  runs its segment in TensorFlow, so counting TRTEngineOps overstates it.

  input_fn: a callable returning an iterable of input tuples (one tensor per
  signature input); their shapes define the TensorRT optimization profiles and
  the engines are built before saving. Without it, engines are built at the
  first run of the converted model.

  max_workspace_size_bytes: None keeps TF-TRT 2.17's own default (with TensorRT
  >= 8.4 no limit: TensorRT takes what the engine needs, from TF's allocator).
  A MaskedRnn layer needs at least B*T*G*U*4 bytes at the profile's largest
  B and T (G = 4 LSTM, 3 GRU, 1 SimpleRNN; 2.1 GB for U=512, B=256, T=1000):
  a smaller limit makes that engine's build fail and TF-TRT run the segment in
  TensorFlow instead.
  """
  precision_mode = str(precision_mode).upper()
  if precision_mode not in PRECISION_MODES:
    raise ConversionError(f"precision_mode must be one of {PRECISION_MODES}, "
                          f"got {precision_mode!r}")
  segments.check_saved_model_dir(input_dir)
  model_files.check_output_path(output_dir, overwrite=overwrite, inputs=[input_dir])
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
  limits = {} if max_workspace_size_bytes is None else {
      "max_workspace_size_bytes": max_workspace_size_bytes}
  params = trt.TrtConversionParams(precision_mode=precision_mode,
                                   minimum_segment_size=minimum_segment_size, **limits)
  converter = trt.TrtGraphConverterV2(input_saved_model_dir=str(input_dir),
                                      input_saved_model_signature_key=signature_key,
                                      conversion_params=params, use_dynamic_shape=True,
                                      dynamic_shape_profile_strategy="Range")
  converted = converter.convert()
  if input_fn is not None:
    converter.build(input_fn=input_fn)
  graph_def = converted.graph.as_graph_def()

  def save(staged):
    converter.save(str(staged))
    return engine_builds(graph_def, staged)  # judged before the rename: same files

  # NOTE: this path has never run here (no TensorRT on the development
  # machine); engine_builds is tested on constructed GraphDefs and asset files.
  builds = model_files.write_atomically(output_dir, save, overwrite=overwrite,
                                        inputs=[input_dir], what="converted SavedModel")
  engines = segments.engines_in_graph_def(graph_def)
  return ConversionResult(True, str(output_dir), _build_message(output_dir, builds), engines,
                          builds=builds)


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


# The ops our plugins implement inside an engine.
PLUGIN_OPS = ("Masking", "MaskedLSTM", "MaskedGRU", "MaskedSimpleRNN")


def engines_with_plugins(saved_model_dir) -> list:
  """Names of the TRTEngineOp nodes of a SavedModel whose segments hold our ops:
  TensorRT needs our plugin creators to deserialize those engines. Reads
  saved_model.pb only (nothing is loaded or run)."""
  from tensorflow.core.protobuf import saved_model_pb2  # pylint: disable=import-outside-toplevel

  path = Path(saved_model_dir) / "saved_model.pb"
  model = saved_model_pb2.SavedModel()
  try:
    model.ParseFromString(path.read_bytes())
  except (OSError, ValueError) as e:
    raise ConversionError(f"cannot read {path}: {e}") from e
  engines = []
  for meta_graph in model.meta_graphs:
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    nodes = list(meta_graph.graph_def.node)
    for function in functions.values():
      nodes.extend(function.node_def)
    for node in nodes:
      if node.op != "TRTEngineOp":
        continue
      segment = functions.get(node.attr["segment_func"].func.name)
      # Without its native segment we cannot tell: assume it may hold our ops.
      if segment is None or any(n.op in PLUGIN_OPS for n in segment.node_def):
        engines.append(node.name)
  return sorted(set(engines))


def load_converted_model(saved_model_dir, **load_kwargs):
  """tf.saved_model.load for a model convert_saved_model wrote, with our ops
  loaded and our TensorRT plugin creators registered first.

  TF-TRT 2.17 deserializes the saved engines while the model loads and does
  not check the engine TensorRT gives back: an engine whose plugins TensorRT
  cannot find crashes the process. So when the model holds engines with our
  plugins and they cannot be registered, this raises ConversionError saying why
  instead of loading.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  _loader.load_ops()
  engines = engines_with_plugins(saved_model_dir)
  if engines:
    available, reason = tensorrt_available()
    if not available:
      raise ConversionError(
          f"{saved_model_dir} holds {len(engines)} TensorRT engine(s) with tftrt_masking plugins "
          f"({', '.join(engines[:3])}{', ...' if len(engines) > 3 else ''}) that cannot be loaded "
          f"here: {reason}")
    register_trt_plugins()
  return tf.saved_model.load(str(saved_model_dir), **load_kwargs)


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
  """Errors are raised: __main__ prints them as one line. Exit code 1 when
  nothing was converted (TensorRT absent, no engine, every build failed)."""
  if (args.batch_sizes is None) != (args.time_steps is None):
    given, missing = (("--batch-sizes", "--time-steps") if args.time_steps is None
                      else ("--time-steps", "--batch-sizes"))
    raise ConversionError(f"{given} needs {missing}: the optimization profile is built from "
                          "both (every batch size x every sequence length); give both or neither")
  segments.check_saved_model_dir(args.input_dir)
  model_files.check_output_path(args.output_dir, overwrite=args.overwrite, inputs=[args.input_dir])
  input_fn = None
  available, _ = tensorrt_available()
  if available and args.batch_sizes:
    input_fn = profile_input_fn(args.input_dir, args.batch_sizes, args.time_steps,
                                args.signature)
  result = convert_saved_model(args.input_dir, args.output_dir, input_fn=input_fn,
                               precision_mode=args.precision, signature_key=args.signature,
                               minimum_segment_size=args.minimum_segment_size,
                               overwrite=args.overwrite)
  print(result.summary())
  if result.anything_converted:
    return 0
  # The failure, as every CLI failure, as one line on stderr too.
  print(result.message if not (result.converted and result.builds) else
        f"convert: nothing converted: {len(result.fell_back)} of {len(result.builds)} "
        "engine build(s) failed, every segment runs in TensorFlow", file=sys.stderr)
  return 1


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser(
      "convert", help="TF-TRT conversion with the tftrt_masking converters and plugins",
      description="Converts a SavedModel with TF-TRT (dynamic shapes) and reports how many "
      "TensorRT engines were actually built, naming each segment that fell back to "
      "TensorFlow. Without TensorRT it says so, prints the offline segment report instead and "
      "exits with 1 (as when nothing was converted).")
  parser.add_argument("input_dir", help="input SavedModel directory")
  parser.add_argument("output_dir", help="where to write the converted SavedModel")
  parser.add_argument("--precision", default="FP32", choices=PRECISION_MODES)
  parser.add_argument("--signature", default=segments.DEFAULT_SIGNATURE)
  parser.add_argument("--minimum-segment-size", type=segments.positive_int,
                      default=segments.DEFAULT_MINIMUM_SEGMENT_SIZE)
  parser.add_argument("--batch-sizes", type=_int_list, default=None,
                      help="batch sizes for the optimization profile, e.g. 1,32")
  parser.add_argument("--time-steps", type=_int_list, default=None,
                      help="sequence lengths for the optimization profile, e.g. 10,100")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace OUTPUT_DIR if it exists (a SavedModel folder; never the "
                      "input): written beside it first, swapped in when complete")
  parser.set_defaults(func=_cli)
