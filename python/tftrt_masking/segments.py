"""segment_report: which nodes of a SavedModel TF-TRT would put into which
TensorRT engine, and why every other node stays in TensorFlow.

It runs TF-TRT's own segmenter offline (Grappler's TensorRTOptimizer through
tf_optimizer.OptimizeGraph, converters in validation-only mode), so it needs no
GPU and no TensorRT. The optimization runs in a child Python process: TF-TRT
logs the reason for each rejected node only through its C++ log (VLOG), which
has to be switched on before TensorFlow starts, so the child runs with
TF_CPP_VMODULE=segment=1 and this process reads the reasons from its stderr.

CLI: python -m tftrt_masking segments SAVED_MODEL_DIR [--json] [--verbose]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

from tftrt_masking import model_files
from tftrt_masking.errors import UserError
from tftrt_masking.trt_plugins import tf_trt_missing_reason  # also for callers of segments

DEFAULT_SIGNATURE = "serving_default"
DEFAULT_MINIMUM_SEGMENT_SIZE = 3
TRT_ENGINE_OP = "TRTEngineOp"
OUR_OPS = ("Masking", "MaskedLSTM", "MaskedGRU", "MaskedSimpleRNN")

_WORKER_MARKER = "TFTRT_MASKING_SEGMENTS_JSON:"
# segment.cc: "Not a TF-TRT candidate, (Op type: T), (Op name: N), (Reason: R)"
_NOT_CANDIDATE = re.compile(
    r"Not a TF-TRT candidate, \(Op type: (?P<op>[^)]*)\), \(Op name: (?P<name>.*?)\), "
    r"\(Reason: (?P<reason>.*)\)\s*$")
_SEGMENT_NODES = re.compile(r"Nodes in segment (?P<index>\d+) with parent=")
_SEGMENT_NODE = re.compile(r"^\[Op type: (?P<op>[^\]]*)\] (?P<name>\S+)\s*$")
_SEGMENT_DROPPED = re.compile(
    r"Segment (?P<index>\d+) has only (?P<count>\d+) effective nodes, dropping")
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:|[IWEF]\d{4} )")

_NO_SEGMENT_REASON = ("accepted by the converters but not in any engine segment "
                      "(e.g. a constant or shape-only node that feeds TensorFlow nodes)")


class SegmentReportError(UserError, RuntimeError):
  """The offline segmenter could not run on the SavedModel (`details`: its log)."""


@dataclasses.dataclass
class EngineSegment:
  """One TRTEngineOp: the nodes TF-TRT would hand to one TensorRT engine."""
  name: str
  nodes: list  # [(node name, op type)]

  @property
  def op_types(self) -> list:
    return [op for _, op in self.nodes]

  def holds(self, op_type: str) -> bool:
    return op_type in self.op_types


# Name scopes of the call wrappers around a SavedModel signature's graph.
_CALL_SCOPES = ("PartitionedCall", "StatefulPartitionedCall")

# What a segmenter reason means for a Keras user: (pattern, explanation).
_EXPLANATIONS = (
    (re.compile(r"data type int64|tensorflow data type int64"),
     "TensorRT 8.6 has no int64 tensors: give the model int32 inputs "
     "(keras.Input(..., dtype='int32')) for token ids"),
    (re.compile(r"data type double"), "TensorRT has no float64: use float32 or float16"),
    (re.compile(r"Op type (While|StatelessWhile|Enter|Exit|Merge|Switch|NextIteration|"
                r"LoopCond) is not supported"),
     "a loop: TF-TRT converts no loop (a recurrent layer the rewrite kept as Keras, or "
     "TimeDistributed around a layer it cannot unwrap: see the rewrite report)"),
    (re.compile(r"Op type (AssignVariableOp|VarHandleOp|ReadVariableOp) is not supported"),
     "a variable read or write: the graph cannot be frozen (a stateful layer or a "
     "random generator)"),
    (re.compile(r"data type string|DT_STRING|Op type (LookupTable\w*|StringToHashBucket\w*)"),
     "strings and hash tables: TensorRT has neither (preprocess outside the model)"),
)


@dataclasses.dataclass
class TensorFlowNode:
  """A node left in TensorFlow, with the reason the segmenter gave."""
  name: str
  op: str
  reason: str

  @property
  def keras_layer(self) -> str:
    """The Keras layer the node belongs to, from its name scope ('' for the
    signature's inputs and outputs)."""
    return "/".join(part for part in self.name.split("/")[:-1] if part not in _CALL_SCOPES)

  @property
  def explanation(self) -> str:
    """What the reason means for a Keras model ('' where nothing is known)."""
    for pattern, explanation in _EXPLANATIONS:
      if pattern.search(self.reason):
        return explanation
    return ""


@dataclasses.dataclass
class SegmentReport:
  saved_model_dir: str
  signature_key: str
  minimum_segment_size: int
  converters: list  # our ops that have a registered TF-TRT converter
  engines: list  # [EngineSegment]
  tensorflow_nodes: list  # [TensorFlowNode]

  def engines_holding(self, op_type: str) -> list:
    return [engine for engine in self.engines if engine.holds(op_type)]

  def tensorflow_node(self, name: str):
    for node in self.tensorflow_nodes:
      if node.name == name:
        return node
    return None

  def tensorflow_nodes_of(self, op_type: str) -> list:
    return [node for node in self.tensorflow_nodes if node.op == op_type]

  def to_dict(self) -> dict:
    report = dataclasses.asdict(self)
    for entry, node in zip(report["tensorflow_nodes"], self.tensorflow_nodes):
      entry.update(keras_layer=node.keras_layer, explanation=node.explanation)
    return report

  def summary(self, verbose: bool = False) -> str:
    """A readable summary: engines with their op types, then every TF node and
    why. Constants that are in no segment (they feed TensorFlow nodes) are
    counted, and listed only when `verbose`."""
    lines = [f"TF-TRT segment report for {self.saved_model_dir} "
             f"(signature '{self.signature_key}', minimum_segment_size="
             f"{self.minimum_segment_size})"]
    missing = [op for op in OUR_OPS if op not in self.converters]
    if missing:
      lines.append(f"  note: no TF-TRT converter registered for {', '.join(missing)} "
                   "(converter library not built or not loaded)")
    lines.append(f"{len(self.engines)} TensorRT engine(s):")
    for engine in self.engines:
      counts = {}
      for op in engine.op_types:
        counts[op] = counts.get(op, 0) + 1
      ops = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in counts.items())
      lines.append(f"  {engine.name}: {len(engine.nodes)} nodes: {ops}")
    shown = [node for node in self.tensorflow_nodes if verbose or not _is_unused_constant(node)]
    hidden = len(self.tensorflow_nodes) - len(shown)
    lines.append(f"{len(self.tensorflow_nodes)} node(s) left in TensorFlow:")
    for node in shown:
      layer = f" [layer {node.keras_layer}]" if node.keras_layer else ""
      why = f" ({node.explanation})" if node.explanation else ""
      lines.append(f"  {node.name} ({node.op}){layer}: {node.reason}{why}")
    if hidden:
      lines.append(f"  ({hidden} constant(s) accepted by the converters but in no engine segment "
                   "not listed; --verbose lists them)")
    return "\n".join(lines)


def _is_unused_constant(node: TensorFlowNode) -> bool:
  return node.op == "Const" and node.reason == _NO_SEGMENT_REASON


def segment_report(saved_model_dir, signature_key: str = DEFAULT_SIGNATURE,
                   minimum_segment_size: int = DEFAULT_MINIMUM_SEGMENT_SIZE,
                   precision_mode: str = "FP32", timeout: float = 600.0) -> SegmentReport:
  """Runs TF-TRT's segmenter on a SavedModel signature; no GPU or TensorRT needed."""
  saved_model_dir = check_saved_model_dir(saved_model_dir)
  no_tf_trt = tf_trt_missing_reason()
  if no_tf_trt:
    raise SegmentReportError(f"no segment report: {no_tf_trt}")
  env = dict(os.environ)
  # VLOG(1) of segment.cc carries the reasons; INFO must not be filtered.
  env["TF_CPP_MIN_LOG_LEVEL"] = "0"
  env["TF_CPP_VMODULE"] = "segment=1"
  package_root = str(Path(__file__).resolve().parent.parent)
  env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
  command = [sys.executable, "-m", "tftrt_masking.segments", "--worker", saved_model_dir,
             "--signature", signature_key, "--minimum-segment-size", str(minimum_segment_size),
             "--precision", precision_mode]
  try:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False, stdin=subprocess.DEVNULL)
  except subprocess.TimeoutExpired as e:
    raise SegmentReportError(f"the TF-TRT segmenter took longer than {timeout:g} s on "
                             f"{saved_model_dir} and was stopped",
                             details=_text(e.stderr)) from None
  payload = None
  for line in done.stdout.splitlines():
    if line.startswith(_WORKER_MARKER):
      payload = json.loads(line[len(_WORKER_MARKER):])
  if payload is None:
    how = (f"was killed by signal {-done.returncode}" if done.returncode < 0
           else f"ended with exit code {done.returncode}")
    raise SegmentReportError(f"the TF-TRT segmenter process {how} on {saved_model_dir} "
                             "without a report (--debug shows its log)", details=done.stderr)
  if "error" in payload:
    raise SegmentReportError(payload["error"], details=payload.get("details", "") + done.stderr)
  return _build_report(payload, parse_segmenter_log(done.stderr), saved_model_dir,
                       signature_key, minimum_segment_size)


def check_saved_model_dir(saved_model_dir) -> str:
  """The absolute path of a SavedModel folder; SegmentReportError otherwise
  (checked with os.stat before anything is opened)."""
  try:
    file_format = model_files.model_format(saved_model_dir, "SAVED_MODEL_DIR")
  except model_files.ModelFileError as e:
    raise SegmentReportError(str(e)) from None
  if file_format != model_files.SAVED_MODEL:
    raise SegmentReportError(f"{saved_model_dir} is a .{file_format} file, not a SavedModel "
                             "folder: write one first (python -m tftrt_masking rewrite IN OUT)")
  return str(Path(saved_model_dir).resolve())


def _text(output) -> str:
  if isinstance(output, bytes):
    return output.decode(errors="replace")
  return output or ""


def parse_segmenter_log(log: str) -> dict:
  """Node name -> reason it stayed in TensorFlow, from the segmenter's log."""
  reasons = {}
  pending_segment = None  # (index, [node names]) listed just before a "dropping" line
  collecting = None
  for line in log.splitlines():
    match = _NOT_CANDIDATE.search(line)
    if match:
      reasons[match["name"]] = match["reason"].strip()
      collecting = None
      continue
    match = _SEGMENT_NODES.search(line)
    if match:
      collecting = (match["index"], [])
      pending_segment = collecting
      continue
    match = _SEGMENT_NODE.match(line)
    if match and collecting is not None:
      collecting[1].append(match["name"])
      continue
    match = _SEGMENT_DROPPED.search(line)
    if match and pending_segment is not None and pending_segment[0] == match["index"]:
      for name in pending_segment[1]:
        reasons.setdefault(
            name, f"its segment has only {match['count']} effective node(s), fewer than "
            "minimum_segment_size")
      pending_segment = None
    if _LOG_LINE.match(line):
      collecting = None
  return reasons


def _build_report(payload: dict, reasons: dict, saved_model_dir: str, signature_key: str,
                  minimum_segment_size: int) -> SegmentReport:
  engines = [EngineSegment(e["name"], [tuple(n) for n in e["nodes"]])
             for e in payload["engines"]]
  tensorflow_nodes = []
  for name, op in payload["nodes"]:
    if op == TRT_ENGINE_OP:
      continue
    reason = reasons.get(name)
    if reason is None:
      reason = _NO_SEGMENT_REASON
    tensorflow_nodes.append(TensorFlowNode(name, op, reason))
  return SegmentReport(saved_model_dir, signature_key, minimum_segment_size,
                       payload["converters"], engines, tensorflow_nodes)


# ----------------------------------------------------------------- the worker


def tensorrt_rewriter_config(minimum_segment_size: int, precision_mode: str,
                             max_workspace_size_bytes: int = 1 << 30):
  """TF-TRT's RewriterConfig (trt_convert.py's, in dynamic shape mode) built
  without asking for the TensorRT version, which aborts where TensorRT is absent."""
  from tensorflow.core.protobuf import rewriter_config_pb2  # pylint: disable=import-outside-toplevel

  config = rewriter_config_pb2.RewriterConfig()
  config.remapping = rewriter_config_pb2.RewriterConfig.OFF
  config.optimizers.extend(["pruning", "debug_stripper", "layout", "dependency", "constfold",
                            "common_subgraph_elimination"])
  config.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.ONE
  trt = config.custom_optimizers.add()
  config.custom_optimizers.add().name = "constfold"
  trt.name = "TensorRTOptimizer"
  parameters = trt.parameter_map
  parameters["minimum_segment_size"].i = minimum_segment_size
  parameters["max_workspace_size_bytes"].i = max_workspace_size_bytes
  parameters["precision_mode"].s = precision_mode.upper().encode()
  parameters["maximum_cached_engines"].i = 1
  parameters["use_calibration"].b = False
  parameters["is_dynamic_op"].b = True
  parameters["allow_build_at_runtime"].b = True
  parameters["use_implicit_batch"].b = False
  parameters["profile_strategy"].s = b"Range"
  return config


def engines_in_graph_def(graph_def) -> list:
  """[EngineSegment] for every TRTEngineOp of a (converted) GraphDef."""
  functions = {f.signature.name: f for f in graph_def.library.function}
  engines = []
  for node in graph_def.node:
    if node.op != TRT_ENGINE_OP:
      continue
    function = functions.get(node.attr["segment_func"].func.name)
    nodes = [(n.name, n.op) for n in function.node_def] if function is not None else []
    engines.append(EngineSegment(node.name, nodes))
  return engines


_VARIABLE_WRITES = ("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
                    "ResourceScatterUpdate", "Assign", "AssignAdd", "AssignSub")


class _WorkerError(Exception):
  """A failure of the worker, said in one line."""


@contextlib.contextmanager
def _stage(what: str):
  """Turns any error inside into _WorkerError('<what>: <the error's first line>')."""
  try:
    yield
  except Exception as e:  # pylint: disable=broad-except
    lines = str(e).strip().splitlines()
    first = lines[0] if lines else ""
    raise _WorkerError(f"{what}: {type(e).__name__}: {first[:300]}") from e


def _run_worker(saved_model_dir: str, signature_key: str, minimum_segment_size: int,
                precision_mode: str) -> dict:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow.compiler.tf2tensorrt import _pywrap_py_utils  # pylint: disable=import-outside-toplevel
  from tensorflow.core.protobuf import config_pb2, meta_graph_pb2  # pylint: disable=import-outside-toplevel
  from tensorflow.python.framework import convert_to_constants  # pylint: disable=import-outside-toplevel
  from tensorflow.python.grappler import tf_optimizer  # pylint: disable=import-outside-toplevel
  from tensorflow.python.training import saver  # pylint: disable=import-outside-toplevel

  from tftrt_masking import load_ops  # pylint: disable=import-outside-toplevel

  load_ops()
  with _stage(f"cannot load the SavedModel {saved_model_dir}"):
    loaded = tf.saved_model.load(saved_model_dir)
  if signature_key not in loaded.signatures:
    return {"error": f"SavedModel {saved_model_dir} has no signature {signature_key!r} "
                     f"(it has {sorted(loaded.signatures)}); pass --signature"}
  function = loaded.signatures[signature_key]
  graph_def = function.graph.as_graph_def()
  writes = sorted({node.op for node in graph_def.node if node.op in _VARIABLE_WRITES}
                  | {node.op for f in graph_def.library.function for node in f.node_def
                     if node.op in _VARIABLE_WRITES})
  if writes:
    return {"error": f"signature {signature_key!r} of {saved_model_dir} writes variables "
                     f"({', '.join(writes)}), so its graph cannot be frozen for TF-TRT (e.g. a "
                     "dropout seed or a stateful RNN's state); export an inference graph "
                     "without variable writes"}
  with _stage(f"cannot freeze the variables of signature {signature_key!r} of "
              f"{saved_model_dir} (TF-TRT needs them as constants)"):
    frozen = convert_to_constants.convert_variables_to_constants_v2(function)
  graph_def = frozen.graph.as_graph_def()
  for node in graph_def.node:
    node.device = ""
  meta_graph = saver.export_meta_graph(graph_def=graph_def, graph=frozen.graph)
  fetches = meta_graph_pb2.CollectionDef()
  for tensor in frozen.inputs + frozen.outputs:
    fetches.node_list.value.append(tensor.name)
  meta_graph.collection_def["train_op"].CopyFrom(fetches)
  session_config = config_pb2.ConfigProto()
  session_config.graph_options.rewrite_options.CopyFrom(
      tensorrt_rewriter_config(minimum_segment_size, precision_mode))
  with _stage(f"TF-TRT's segmenter failed on {saved_model_dir}"):
    optimized = tf_optimizer.OptimizeGraph(session_config, meta_graph, graph_id=b"tf_graph")
  registered = set(_pywrap_py_utils.get_registered_op_converters())
  return {
      "converters": [op for op in OUR_OPS if op in registered],
      "engines": [{"name": e.name, "nodes": e.nodes} for e in engines_in_graph_def(optimized)],
      "nodes": [(node.name, node.op) for node in optimized.node],
  }


# ----------------------------------------------------------------------- CLI


def _add_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument("saved_model_dir", help="SavedModel directory")
  parser.add_argument("--signature", default=DEFAULT_SIGNATURE, help="signature key")
  parser.add_argument("--minimum-segment-size", type=positive_int,
                      default=DEFAULT_MINIMUM_SEGMENT_SIZE)
  parser.add_argument("--precision", default="FP32", choices=("FP32", "FP16"))


def _cli(args) -> int:
  """Errors are raised: __main__ prints them as one line."""
  report = segment_report(args.saved_model_dir, args.signature, args.minimum_segment_size,
                          args.precision)
  print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary(args.verbose))
  return 0


def positive_int(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
  if value < 1:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
  return value


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser(
      "segments", help="offline TF-TRT segment report (no GPU or TensorRT needed)",
      description="Runs TF-TRT's segmenter on a SavedModel and reports, per TRTEngineOp, "
      "the ops inside it and, for every node left in TensorFlow, the reason.")
  _add_arguments(parser)
  parser.add_argument("--json", action="store_true", help="print the report as JSON")
  parser.add_argument("--verbose", action="store_true",
                      help="also list the constants that are in no engine segment")
  parser.set_defaults(func=_cli)


def _worker_main(argv) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--worker", required=True)
  parser.add_argument("--signature", default=DEFAULT_SIGNATURE)
  parser.add_argument("--minimum-segment-size", type=int, default=DEFAULT_MINIMUM_SEGMENT_SIZE)
  parser.add_argument("--precision", default="FP32")
  args = parser.parse_args(argv)
  try:
    payload = _run_worker(args.worker, args.signature, args.minimum_segment_size, args.precision)
  except Exception as e:  # pylint: disable=broad-except
    message = str(e) if isinstance(e, _WorkerError) else (
        f"the TF-TRT segmenter failed on {args.worker}: {type(e).__name__}: "
        f"{(str(e).strip().splitlines() or [''])[0][:300]}")
    payload = {"error": message, "details": traceback.format_exc()}
  print(_WORKER_MARKER + json.dumps(payload), flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(_worker_main(sys.argv[1:]))
