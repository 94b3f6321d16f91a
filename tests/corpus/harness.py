"""One corpus case, end to end: save a corpus model in a format, rewrite it
(through the CLI, or rewrite_model for the in-memory format), load the
rewritten SavedModel, compare its serving_default outputs with the Keras
model's on make_batch's rows, and (where the converter library is built) ask
the segment report whether everything is in ONE TRTEngineOp.

Shared by test_corpus.py (asserts) and status.py (prints a table).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import models

# Keras 3: .keras file through the CLI, or the model in memory through
# rewrite_model; tf_keras: .h5 file and SavedModel folder (model.save), CLI.
KERAS3_FILE = "keras3_file"
KERAS3_MEMORY = "keras3_memory"
TF_KERAS_H5 = "tf_keras_h5"
TF_KERAS_SAVED_MODEL = "tf_keras_saved_model"
FORMATS = (KERAS3_FILE, KERAS3_MEMORY, TF_KERAS_H5, TF_KERAS_SAVED_MODEL)
FLAVOUR = {KERAS3_FILE: models.KERAS3, KERAS3_MEMORY: models.KERAS3,
           TF_KERAS_H5: models.TF_KERAS, TF_KERAS_SAVED_MODEL: models.TF_KERAS}

# float32, the same math on the same CPU: the rewritten model's ops are the
# Keras formulas in another order at most.
RTOL = 1e-5
ATOL = 1e-6

SIGNATURE = "serving_default"
# What may stay in TensorFlow beside the ONE engine: the signature's inputs
# and outputs. Output tensors of a frozen signature are Identity nodes named
# Identity, Identity_1, ...
_SIGNATURE_OPS = {"Placeholder", "NoOp"}
_OUTPUT_IDENTITY = re.compile(r"^Identity(_\d+)?$")
_ACCEPTED_NOT_IN_SEGMENT = "accepted by the converters but not in any engine segment"


def cases(formats=FORMATS, names=None):
  """[(CorpusModel, format)] of the whole corpus (tf_keras formats for the
  entries marked tf_keras), format by format in the order given."""
  out = []
  for fmt in formats:
    for entry in models.CORPUS:
      if names and entry.name not in names:
        continue
      if FLAVOUR[fmt] == models.TF_KERAS and not entry.tf_keras:
        continue
      out.append((entry, fmt))
  return out


def case_id(entry, fmt) -> str:
  return f"{entry.name}-{fmt}"


# ----------------------------------------------------------------- rewriting


def _package_root() -> str:
  import tftrt_masking  # pylint: disable=import-outside-toplevel
  return str(Path(os.path.abspath(tftrt_masking.__file__)).parent.parent)


def run_cli(*args, timeout: float = 600.0) -> subprocess.CompletedProcess:
  """python -m tftrt_masking ARGS in a child process (the package this
  process imports, the same libraries)."""
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH")) if p)
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return subprocess.run([sys.executable, "-m", "tftrt_masking", *map(str, args)], env=env,
                        capture_output=True, text=True, timeout=timeout, check=False)


def save_keras_model(model, fmt: str, directory: Path) -> Path:
  """Writes the Keras model as the format's input to the rewrite."""
  if fmt == KERAS3_FILE:
    path = directory / "model.keras"
    model.save(str(path))
  elif fmt == TF_KERAS_H5:
    path = directory / "model.h5"
    model.save(str(path))
  elif fmt == TF_KERAS_SAVED_MODEL:
    path = directory / "model_saved"
    model.save(str(path), save_format="tf")
  else:
    raise ValueError(f"{fmt} has no file")
  return path


@dataclasses.dataclass
class Rewritten:
  ok: bool
  directory: Path
  log: str  # the CLI's output (or the exception), for failure messages


def rewrite(model, fmt: str, directory: Path) -> Rewritten:
  """Rewrites `model` as a user would for this format; the result is the
  SavedModel folder directory/rewritten."""
  out = directory / "rewritten"
  if fmt == KERAS3_MEMORY:
    from tftrt_masking import rewrite as rewrite_module  # pylint: disable=import-outside-toplevel
    try:
      new_model, report = rewrite_module.rewrite_model(model)
      rewrite_module.save_model(new_model, out)
    except Exception as e:  # pylint: disable=broad-except
      return Rewritten(False, out, f"rewrite_model / save_model raised {type(e).__name__}: {e}")
    return Rewritten(True, out, report.summary())
  source = save_keras_model(model, fmt, directory)
  done = run_cli("rewrite", source, out)
  log = f"$ python -m tftrt_masking rewrite {source.name} {out.name}\n{done.stdout}{done.stderr}"
  ok = done.returncode == 0 and (out / "saved_model.pb").is_file()
  if done.returncode == 0 and not ok:
    log += f"\n(exit code 0 but {out} is not a SavedModel folder)"
  elif done.returncode != 0:
    log += f"\n(exit code {done.returncode})"
  return Rewritten(ok, out, log)


# ---------------------------------------------------------------- outputs


def keras_outputs(model, entry, batch) -> list:
  """The Keras model's outputs on the batch, in model.outputs order, computed
  as model.predict does: in a tf.function (graph mode).

  Graph mode, not eager: they differ where NaN meets TensorFlow's graph
  optimizations. bilstm_global_average_pooling's fully masked row is NaN
  after the masked pooling (0/0) in both, but after Dense(relu) -> Dense it is
  NaN eagerly and finite in a tf.function, and so in Keras' own export of the
  original model: a rewritten SavedModel can only match the graph-mode result.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  inputs = [tf.constant(batch[spec.name]) for spec in entry.inputs]
  call = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
  outputs = call(*inputs)
  if not isinstance(outputs, (list, tuple)):
    outputs = [outputs]
  return [np.asarray(output) for output in outputs]


def _signature_feed(function, entry, batch) -> dict:
  """Signature argument name -> array. Keras names the arguments after the
  Input layers; a single input is matched whatever its name."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  _, specs = function.structured_input_signature
  names = sorted(specs)
  if len(names) != len(entry.inputs):
    raise AssertionError(f"signature {SIGNATURE} takes {names}; the model has inputs "
                         f"{[spec.name for spec in entry.inputs]}")
  if len(names) == 1:
    pairs = [(names[0], entry.inputs[0].name)]
  else:
    missing = [spec.name for spec in entry.inputs if spec.name not in specs]
    if missing:
      raise AssertionError(f"signature {SIGNATURE} takes {names}: no argument for {missing}")
    pairs = [(spec.name, spec.name) for spec in entry.inputs]
  return {arg: tf.constant(batch[name], dtype=specs[arg].dtype) for arg, name in pairs}


def _ordered_outputs(outputs: dict, output_names) -> list:
  """Signature outputs in the Keras model's output order: Keras 3 export
  names them output_0, output_1, ...; tf_keras by the output layers' names."""
  keys = list(outputs)
  if len(keys) == 1:
    return [outputs[keys[0]]]
  if all(re.fullmatch(r"output_\d+", key) for key in keys):
    return [outputs[key] for key in sorted(keys, key=lambda key: int(key.split("_")[1]))]
  missing = [name for name in output_names if name not in outputs]
  if missing:
    raise AssertionError(f"signature outputs {keys} do not name the model's outputs "
                         f"{list(output_names)}")
  return [outputs[name] for name in output_names]


def saved_model_outputs(directory: Path, entry, batch, output_names) -> list:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import tftrt_masking  # pylint: disable=import-outside-toplevel

  tftrt_masking.load_ops()
  loaded = tf.saved_model.load(str(directory))
  if SIGNATURE not in loaded.signatures:
    raise AssertionError(f"{directory} has no {SIGNATURE} signature: {list(loaded.signatures)}")
  function = loaded.signatures[SIGNATURE]
  outputs = function(**_signature_feed(function, entry, batch))
  return [np.asarray(output) for output in _ordered_outputs(outputs, output_names)]


def output_names(model) -> list:
  names = getattr(model, "output_names", None)
  if names:
    return list(names)
  return [output.name.split("/")[0] for output in model.outputs]


def output_problems(expected: list, actual: list) -> list:
  """Differences between Keras' outputs and the rewritten model's: shape,
  NaN positions, values beyond RTOL/ATOL. Empty when they agree."""
  problems = []
  if len(expected) != len(actual):
    return [f"{len(actual)} outputs, Keras has {len(expected)}"]
  for i, (want, got) in enumerate(zip(expected, actual)):
    if want.shape != got.shape:
      problems.append(f"output {i}: shape {got.shape}, Keras {want.shape}")
      continue
    want_nan, got_nan = np.isnan(want), np.isnan(got)
    if not np.array_equal(want_nan, got_nan):
      problems.append(f"output {i}: NaN at {np.argwhere(got_nan).tolist()[:8]}, Keras at "
                      f"{np.argwhere(want_nan).tolist()[:8]}")
      continue
    close = np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
    if not close.all():
      bad = np.argwhere(~close)
      error = np.abs(np.where(want_nan, 0, got - want)).max()
      rows = sorted({int(index[0]) for index in bad})
      kinds = [models.ROW_KINDS[row] for row in rows if row < len(models.ROW_KINDS)]
      problems.append(f"output {i}: {len(bad)} of {want.size} values differ (max |diff| "
                      f"{error:.3g}) in rows {rows} ({', '.join(kinds)})")
  return problems


# --------------------------------------------------------------- segments


def is_signature_node(node) -> bool:
  """Nodes that may stay in TensorFlow beside the engine: the signature's
  inputs and outputs, and constants the report accepted but put in no segment."""
  if node.op in _SIGNATURE_OPS:
    return True
  if node.op == "Identity" and _OUTPUT_IDENTITY.match(node.name):
    return True
  return node.op == "Const" and node.reason.startswith(_ACCEPTED_NOT_IN_SEGMENT)


def left_in_tensorflow(report) -> list:
  """The report's TensorFlow nodes beyond the signature's inputs and outputs."""
  return [node for node in report.tensorflow_nodes if not is_signature_node(node)]


def one_engine_problem(report):
  """None when the report has exactly ONE TRTEngineOp and nothing but the
  signature's inputs and outputs left in TensorFlow; else the message (with
  the report's summary)."""
  left = left_in_tensorflow(report)
  if len(report.engines) == 1 and not left:
    return None
  ops = sorted({node.op for node in left})
  return (f"expected ONE TRTEngineOp and only the signature's inputs/outputs in TensorFlow; "
          f"got {len(report.engines)} engine(s) and {len(left)} other node(s) in TensorFlow "
          f"({', '.join(ops) or '-'}):\n{report.summary()}")


def op_counts(nodes) -> str:
  counts = {}
  for node in nodes:
    counts[node.op] = counts.get(node.op, 0) + 1
  return " ".join(f"{op}x{n}" if n > 1 else op for op, n in sorted(counts.items())) or "-"


# ------------------------------------------------------------- one case


@dataclasses.dataclass
class CaseResult:
  model: str
  fmt: str
  rewrite_ok: bool = False
  outputs_ok: bool = False
  output_problems: list = dataclasses.field(default_factory=list)
  engines: int = -1  # -1: segment report not run
  left: str = ""  # op types left in TensorFlow beside inputs/outputs
  log: str = ""
  seconds: float = 0.0


def run_case(entry, fmt: str, directory: Path, segments: bool = True) -> CaseResult:
  """Everything status.py reports for one (model, format)."""
  start = time.time()
  result = CaseResult(entry.name, fmt)
  directory.mkdir(parents=True, exist_ok=True)
  model = models.build(entry, FLAVOUR[fmt])
  batch = models.make_batch(entry)
  rewritten = rewrite(model, fmt, directory)
  result.rewrite_ok, result.log = rewritten.ok, rewritten.log
  # After saving / rewriting: a stateful model's call changes its states.
  expected = keras_outputs(model, entry, batch)
  if rewritten.ok:
    try:
      actual = saved_model_outputs(rewritten.directory, entry, batch, output_names(model))
      result.output_problems = output_problems(expected, actual)
    except Exception as e:  # pylint: disable=broad-except
      result.output_problems = [f"loading / calling the SavedModel raised {type(e).__name__}: "
                                f"{str(e)[:500]}"]
    result.outputs_ok = not result.output_problems
    if segments:
      from tftrt_masking import segments  # pylint: disable=import-outside-toplevel
      try:
        report = segments.segment_report(rewritten.directory)
        result.engines = len(report.engines)
        result.left = op_counts(left_in_tensorflow(report))
      except segments.SegmentReportError as e:
        result.left = "segments failed: " + str(e).strip().splitlines()[-1][:200]
  result.seconds = time.time() - start
  return result
