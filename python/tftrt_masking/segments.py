"""segment_report: which nodes of a SavedModel TF-TRT would put into which
TensorRT engine, and why every other node stays in TensorFlow.

It runs TF-TRT's own segmenter offline (Grappler's TensorRTOptimizer through
tf_optimizer.OptimizeGraph, converters in validation-only mode), so it needs no
GPU and no TensorRT. The optimization runs in a child Python process: TF-TRT
logs the reason for each rejected node only through its C++ log (VLOG), which
has to be switched on before TensorFlow starts, so the child runs with
TF_CPP_VMODULE=segment=1 and this process reads the reasons from its stderr.

CLI: python -m tftrt_masking segments SAVED_MODEL_DIR [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


class SegmentReportError(RuntimeError):
  """The offline segmenter could not run on the SavedModel."""


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


@dataclasses.dataclass
class TensorFlowNode:
  """A node left in TensorFlow, with the reason the segmenter gave."""
  name: str
  op: str
  reason: str


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
    return dataclasses.asdict(self)

  def summary(self) -> str:
    """A readable summary: engines with their op types, then every TF node and why."""
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
    lines.append(f"{len(self.tensorflow_nodes)} node(s) left in TensorFlow:")
    for node in self.tensorflow_nodes:
      lines.append(f"  {node.name} ({node.op}): {node.reason}")
    return "\n".join(lines)


def segment_report(saved_model_dir, signature_key: str = DEFAULT_SIGNATURE,
                   minimum_segment_size: int = DEFAULT_MINIMUM_SEGMENT_SIZE,
                   precision_mode: str = "FP32", timeout: float = 600.0) -> SegmentReport:
  """Runs TF-TRT's segmenter on a SavedModel signature; no GPU or TensorRT needed."""
  saved_model_dir = str(Path(saved_model_dir).resolve())
  if not Path(saved_model_dir, "saved_model.pb").is_file():
    raise SegmentReportError(f"{saved_model_dir} is not a SavedModel directory "
                             "(no saved_model.pb)")
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
  done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                        check=False)
  payload = None
  for line in done.stdout.splitlines():
    if line.startswith(_WORKER_MARKER):
      payload = json.loads(line[len(_WORKER_MARKER):])
  if done.returncode != 0 or payload is None:
    tail = "\n".join(done.stderr.strip().splitlines()[-15:])
    raise SegmentReportError(f"the TF-TRT segmenter failed on {saved_model_dir} "
                             f"(exit code {done.returncode}):\n{tail}")
  if "error" in payload:
    raise SegmentReportError(payload["error"])
  return _build_report(payload, parse_segmenter_log(done.stderr), saved_model_dir,
                       signature_key, minimum_segment_size)


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
  loaded = tf.saved_model.load(saved_model_dir)
  if signature_key not in loaded.signatures:
    return {"error": f"SavedModel {saved_model_dir} has no signature {signature_key!r} "
                     f"(it has {sorted(loaded.signatures)})"}
  function = loaded.signatures[signature_key]
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
  parser.add_argument("--minimum-segment-size", type=int, default=DEFAULT_MINIMUM_SEGMENT_SIZE)
  parser.add_argument("--precision", default="FP32", choices=("FP32", "FP16"))


def _cli(args) -> int:
  try:
    report = segment_report(args.saved_model_dir, args.signature, args.minimum_segment_size,
                            args.precision)
  except SegmentReportError as e:
    print(f"segments: {e}", file=sys.stderr)
    return 1
  print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
  return 0


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser(
      "segments", help="offline TF-TRT segment report (no GPU or TensorRT needed)",
      description="Runs TF-TRT's segmenter on a SavedModel and reports, per TRTEngineOp, "
      "the ops inside it and, for every node left in TensorFlow, the reason.")
  _add_arguments(parser)
  parser.add_argument("--json", action="store_true", help="print the report as JSON")
  parser.set_defaults(func=_cli)


def _worker_main(argv) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--worker", required=True)
  parser.add_argument("--signature", default=DEFAULT_SIGNATURE)
  parser.add_argument("--minimum-segment-size", type=int, default=DEFAULT_MINIMUM_SEGMENT_SIZE)
  parser.add_argument("--precision", default="FP32")
  args = parser.parse_args(argv)
  payload = _run_worker(args.worker, args.signature, args.minimum_segment_size, args.precision)
  print(_WORKER_MARKER + json.dumps(payload), flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(_worker_main(sys.argv[1:]))
