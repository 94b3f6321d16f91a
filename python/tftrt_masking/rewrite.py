"""Rewrite a Keras model so that its Masking and masked recurrent layers are
this project's (computed by the Masking / MaskedLSTM / MaskedGRU /
MaskedSimpleRNN ops), with the same weights and outputs.

    new_model, report = rewrite_model(model)       # Keras 3 or tf_keras model
    print(report.summary())
    new_model, report = rewrite_path("in.keras", "out_saved_model")

Sequential and functional models (nested ones too) are cloned with Keras' own
clone_model; Masking, LSTM, GRU, SimpleRNN and Bidirectional are swapped for
ours where the ops can serve their configuration, everything else is cloned
as it is, and then all weights are copied over. A layer we cannot serve stays
a Keras layer; the report lists every swapped layer and every layer left as
Keras with the reason. docs/REWRITE.md has the details.

Loading what this writes: import tftrt_masking.layers before
keras.models.load_model (it registers our layers), and call
tftrt_masking.load_ops() before tf.saved_model.load (it registers the ops).
"""

from __future__ import annotations

import dataclasses
import numbers
from pathlib import Path

import keras
import numpy as np

from tftrt_masking import errors, model_files
from tftrt_masking.layers import masking, registry

KERAS3 = registry.KERAS3
TF_KERAS = registry.TF_KERAS


# The input cannot be rewritten (not a Keras model, a subclassed model, ...).
RewriteError = errors.RewriteError


@dataclasses.dataclass
class LayerReport:
  """What happened to one layer the rewrite looked at."""
  name: str
  keras_class: str
  replaced: bool
  new_class: str = ""
  reasons: list = dataclasses.field(default_factory=list)  # why it stays Keras
  notes: list = dataclasses.field(default_factory=list)  # served, but worth knowing


@dataclasses.dataclass
class RewriteReport:
  """Every Masking / recurrent layer of the model: swapped or kept, and why."""
  flavour: str  # "keras" (Keras 3) or "tf_keras"
  model_name: str
  layers: list = dataclasses.field(default_factory=list)
  other_layer_count: int = 0  # layers the rewrite had nothing to do with

  @property
  def replaced(self) -> list:
    return [entry for entry in self.layers if entry.replaced]

  @property
  def kept(self) -> list:
    return [entry for entry in self.layers if not entry.replaced]

  def summary(self) -> str:
    """A readable table, one row per Masking / recurrent layer."""
    rows = [("layer", "Keras class", "result", "now", "why / notes")]
    for entry in self.layers:
      result = "replaced" if entry.replaced else "kept Keras"
      why = "; ".join(entry.reasons + entry.notes) or "-"
      rows.append((entry.name, entry.keras_class, result, entry.new_class or "-", why))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"Rewrite of {self.flavour} model '{self.model_name}': "
             f"{len(self.replaced)} layer(s) replaced, {len(self.kept)} kept as Keras, "
             f"{self.other_layer_count} other layer(s) cloned unchanged."]
    for i, row in enumerate(rows):
      lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
      if i == 0:
        lines.append("  ".join("-" * width for width in widths) + "  " + "-" * 11)
    if not self.layers:
      lines.append("(no Masking, LSTM, GRU, SimpleRNN or Bidirectional layer found)")
    return "\n".join(lines)


def _flavour(model) -> str:
  flavour = registry.flavour_of(model)
  if flavour is None or not isinstance(model, registry.layer_table(flavour).keras.Model):
    raise RewriteError(f"rewrite: expected a Keras 3 or tf_keras Model, got {type(model).__name__}")
  return flavour


def _clone_model(table: registry.LayerTable, model, clone_function, origins,
                 input_tensors=None):
  """Keras' clone_model; for Keras 3 functional models the recorded masks
  are re-derived from the new layers (see _propagated_mask_call)."""
  if table.flavour == KERAS3 and not isinstance(model, keras.Sequential):
    return keras.models.clone_model(
        model, input_tensors=input_tensors, clone_function=clone_function,
        call_function=_propagated_mask_call(model, origins))
  return table.keras.models.clone_model(model, input_tensors=input_tensors,
                                        clone_function=clone_function)


def _keras_mask(tensor):
  try:
    from keras.src.backend import get_keras_mask  # pylint: disable=import-outside-toplevel
    return get_keras_mask(tensor)
  except (ImportError, AttributeError):
    return getattr(tensor, "_keras_mask", None)


def _history(tensor):
  """(operation, node index, tensor index) that made a KerasTensor, or None."""
  history = getattr(tensor, "_keras_history", None)
  return tuple(history) if history is not None else None


def _same_expression(a, b, depth: int = 0) -> bool:
  """True when two KerasTensors are computed by the same operations (same
  classes and configs, names aside) from the same graph inputs.

  A model read back from a file records the mask Keras propagated as
  separate operations (NotEqual, Any ...): not the same object as the mask
  the reconstructed layers attach, but the same expression.
  """
  if a is b:
    return True
  if depth > 64:
    return False
  history_a, history_b = _history(a), _history(b)
  if history_a is None or history_b is None:
    return False
  (op_a, node_a, index_a), (op_b, node_b, index_b) = history_a, history_b
  if type(op_a) is not type(op_b) or index_a != index_b:
    return False
  if type(op_a).__name__ == "InputLayer":
    return op_a is op_b

  def config(operation):
    try:
      return {k: v for k, v in operation.get_config().items() if k != "name"}
    except (NotImplementedError, AttributeError):
      return None

  if config(op_a) != config(op_b):
    return False
  args_a = op_a._inbound_nodes[node_a].arguments  # pylint: disable=protected-access
  args_b = op_b._inbound_nodes[node_b].arguments  # pylint: disable=protected-access
  flat_a = list(args_a.args) + sorted(args_a.kwargs.items())
  flat_b = list(args_b.args) + sorted(args_b.kwargs.items())
  if len(flat_a) != len(flat_b):
    return False
  for value_a, value_b in zip(flat_a, flat_b):
    if isinstance(value_a, tuple) and isinstance(value_b, tuple):  # kwargs items
      if value_a[0] != value_b[0]:
        return False
      value_a, value_b = value_a[1], value_b[1]
    if _history(value_a) is not None or _history(value_b) is not None:
      if not _same_expression(value_a, value_b, depth + 1):
        return False
    elif not _equal_constants(value_a, value_b):
      return False
  return True


def _equal_constants(a, b) -> bool:
  try:
    return bool(np.all(np.asarray(a) == np.asarray(b))) and np.shape(a) == np.shape(b)
  except Exception:  # pylint: disable=broad-except
    return False


def _propagated_mask_call(model, origins):
  """A clone_model call_function for Keras 3 functional models.

  A Keras 3 functional model records each layer's mask argument as a graph
  input: replaying the original graph would feed our recurrent layers the
  mask of Keras' Masking (NotEqual + Any, which TF-TRT cannot convert). Where
  the recorded mask is the one Keras propagates from the layer's input (the
  same tensor in a model built in memory, the same expression in one read
  back from a file), the clone takes the mask the new layers propagate
  instead (our Masking's op), as Keras would in a model built afresh.
  Explicit masks stay as recorded. `origins` maps id(new layer) -> original.
  """
  propagated, explicit = set(), set()
  for operation in model.operations:
    for node in getattr(operation, "_inbound_nodes", []):
      args, kwargs = node.arguments.args, node.arguments.kwargs
      if kwargs.get("mask") is None or not args:
        continue
      propagated_mask = _keras_mask(args[0])
      same = propagated_mask is not None and _same_expression(kwargs["mask"], propagated_mask)
      (propagated if same else explicit).add(id(operation))

  def call_function(layer, *args, **kwargs):
    if "mask" in kwargs and not getattr(layer, "_call_has_mask_arg", True):
      # A layer that replaced one taking a mask (TimeDistributed(Dense) -> Dense):
      # Keras passes the mask through it as it does for the original.
      kwargs = {k: v for k, v in kwargs.items() if k != "mask"}
    original = origins.get(id(layer))
    if (original is not None and id(original) in propagated - explicit and args
        and kwargs.get("mask") is not None and _keras_mask(args[0]) is not None):
      kwargs = dict(kwargs, mask=_keras_mask(args[0]))
    return layer(*args, **kwargs)

  return call_function


def _notes(layer) -> list:
  """What is worth knowing about a swapped layer: where it still runs Keras' math."""
  if isinstance(layer, masking.MaskingBehaviour):
    value = layer.mask_value
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
      return ["non-scalar mask_value: computed with Keras' formula, not the Masking op"]
    return []
  layers = [getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None)]
  layers = [l for l in layers if l is not None] or [layer]
  for candidate in layers:
    notes = candidate.training_notes() if hasattr(candidate, "training_notes") else []
    if notes:
      return notes
  return []


_STATEFUL_NOTE = ("stateful=True: rewritten stateless, every call starts from the initial "
                  "state it is given (zeros by default), as the Keras model does right after "
                  "reset_states(): an inference graph cannot write state variables (TF-TRT "
                  "freezes them). Carry state with return_state=True and initial_state")


def _without_state(config: dict) -> tuple:
  """(config with stateful=False, whether anything was stateful), Bidirectional's
  inner layer configs included."""
  stateful = bool(config.get("stateful"))
  config = dict(config, stateful=False) if "stateful" in config else dict(config)
  for key in ("layer", "backward_layer"):
    inner = config.get(key)
    if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
      inner_config, inner_stateful = _without_state(inner["config"])
      config[key] = dict(inner, config=inner_config)
      stateful = stateful or inner_stateful
  return config, stateful


def _clone_as_is(layer):
  return layer.__class__.from_config(layer.get_config())


_INT64_REASON = ("int64 input: TensorRT 8.6 has no int64 tensors, so the ops that read it "
                 "(Embedding's gather, its mask) stay in TensorFlow; rewrite with "
                 "--int32-inputs (int32_inputs=True) to take int32 ids instead")
_INT32_NOTE = ("int64 input rewritten as int32 (TensorRT 8.6 has no int64 tensors): feed "
               "int32 ids (< 2**31)")


def _int64_inputs(model) -> list:
  """The model's int64 inputs: [(input layer name, KerasTensor)]."""
  found = []
  for tensor in getattr(model, "inputs", None) or []:  # a subclassed model has none
    if str(tensor.dtype).endswith("int64"):
      history = _history(tensor)
      found.append((history[0].name if history else str(tensor.name), tensor))
  return found


def _int32_input_tensors(table: registry.LayerTable, model):
  """New Input tensors for clone_model: the int64 ones as int32, the rest alike."""
  tensors = []
  for tensor in model.inputs:
    history = _history(tensor)
    name = history[0].name if history else None
    dtype = "int32" if str(tensor.dtype).endswith("int64") else tensor.dtype
    tensors.append(table.keras.Input(batch_shape=tuple(tensor.shape), dtype=dtype, name=name))
  # clone_model wants model.input's structure: one tensor or a list.
  return tensors if isinstance(model.input, (list, tuple)) else tensors[0]


def _rewrite_structure(model, table: registry.LayerTable, report: RewriteReport,
                       prefix: str = "", input_tensors=None):
  """clone_model with our layers swapped in; fills `report`. No weights yet."""

  origins = {}  # id(new layer) -> original layer, for the call function

  def clone_function(layer):
    new_layer = _clone_one(layer)
    origins[id(new_layer)] = layer
    return new_layer

  def _clone_one(layer):
    name = prefix + layer.name
    keras_class = type(layer).__name__
    if keras_class == "InputLayer":
      return _clone_as_is(layer)
    if isinstance(layer, table.keras.Model) and table.is_functional_or_sequential(layer):
      return _rewrite_structure(layer, table, report, prefix=name + "/")
    if isinstance(layer, table.ours):
      report.layers.append(LayerReport(name, keras_class, True, keras_class,
                                       notes=["already a tftrt_masking layer"]))
      return _clone_as_is(layer)
    inner = table.per_step_inner(layer)
    if inner is not None:
      # Same weights, same math on the last axis, no loop in the export.
      config = dict(inner.get_config(), name=layer.name)
      report.layers.append(LayerReport(
          name, f"{keras_class}({type(inner).__name__})", True, type(inner).__name__,
          notes=["applied to the whole sequence: the same per-step math without "
                 "TimeDistributed's loop"]))
      return type(inner).from_config(config)
    ours, config = table.ours_for(layer)
    if ours is None:
      if table.is_recurrent_family(layer):
        report.layers.append(LayerReport(
            name, keras_class, False,
            reasons=[f"{keras_class} is not Keras' own Masking, LSTM, GRU, SimpleRNN or "
                     "Bidirectional, nor an RNN of one of Keras' own cells (a subclass, a "
                     "custom or stacked cell): its behaviour is unknown"]))
      elif keras_class in registry.ENGINE_BLOCKERS:
        report.layers.append(LayerReport(
            name, keras_class, False,
            reasons=[f"cannot enter a TensorRT 8.6 engine: {registry.ENGINE_BLOCKERS[keras_class]}"]))
      elif isinstance(layer, table.keras.layers.Layer):
        report.other_layer_count += 1  # (not a bare keras.ops Operation)
      return _clone_as_is(layer)
    config, was_stateful = _without_state(config)
    try:
      candidate = ours.from_config(config)
    except Exception as e:  # pylint: disable=broad-except
      report.layers.append(LayerReport(name, keras_class, False,
                                       reasons=[f"its config does not build ours: {e}"]))
      return _clone_as_is(layer)
    reasons = candidate.unservable_reasons() if hasattr(candidate, "unservable_reasons") else []
    if reasons:
      report.layers.append(LayerReport(name, keras_class, False, reasons=reasons))
      return _clone_as_is(layer)
    notes = ([_STATEFUL_NOTE] if was_stateful else []) + _notes(candidate)
    report.layers.append(LayerReport(name, keras_class, True, type(candidate).__name__,
                                     notes=notes))
    return candidate

  if not table.is_functional_or_sequential(model):
    raise RewriteError(
        f"rewrite: model '{model.name}' is a subclassed {type(model).__name__}; only "
        "Sequential and functional models can be walked. Build the layers of ours "
        "(tftrt_masking.layers) into it directly instead.")
  return _clone_model(table, model, clone_function, origins, input_tensors)


def rewrite_model(model, *, int32_inputs: bool = False):
  """Returns (new_model, RewriteReport): the model with our Masking and
  recurrent layers where they can serve, same weights and outputs.

  `model` is a Keras 3 or tf_keras Sequential / functional model, built (it
  has weights). The original model is not changed. `int32_inputs`: int64
  inputs (token ids) become int32 ones, which TensorRT 8.6 can take.
  """
  table = registry.layer_table(_flavour(model))
  if not model.built:
    raise RewriteError(f"rewrite: model '{model.name}' is not built (it has no weights yet); "
                       "give it an Input or call it once first")
  report = RewriteReport(table.flavour, model.name)
  input_tensors = None
  for name, _ in _int64_inputs(model):
    report.layers.append(LayerReport(
        name, "InputLayer", int32_inputs, "InputLayer" if int32_inputs else "",
        reasons=[] if int32_inputs else [_INT64_REASON],
        notes=[_INT32_NOTE] if int32_inputs else []))
    input_tensors = _int32_input_tensors(table, model) if int32_inputs else None
  new_model = _rewrite_structure(model, table, report, input_tensors=input_tensors)
  old_weights = model.get_weights()
  new_shapes = [tuple(w.shape) for w in new_model.weights]
  old_shapes = [tuple(w.shape) for w in old_weights]
  if new_shapes != old_shapes:
    raise RewriteError(f"rewrite: the rewritten model's weights {new_shapes} do not line up "
                       f"with the original's {old_shapes}")
  new_model.set_weights(old_weights)
  return new_model, report


# Reading and writing model files lives in model_files; these names stay here
# for existing callers.
register_layers = model_files.register_layers
load_keras_model = model_files.load_keras_model
save_model = model_files.save_model


def rewrite_path(source, out=None, *, overwrite: bool = False, unsafe: bool = False,
                 int32_inputs: bool = False):
  """rewrite_model on a model file / SavedModel; writes the result to `out`
  when given (never over `source`, over an existing path only with
  `overwrite`; see model_files.save_model). Returns (new_model, report)."""
  if out is not None:
    model_files.check_output_path(out, overwrite=overwrite, inputs=[source])
  model = load_keras_model(source, unsafe=unsafe)
  new_model, report = rewrite_model(model, int32_inputs=int32_inputs)
  if out is not None:
    save_model(new_model, out, overwrite=overwrite, inputs=[source], unsafe=unsafe)
  return new_model, report


def _run_cli(args) -> int:
  """Errors are raised: __main__ prints them as one line."""
  model_files.import_modules(args.imports)
  model_files.model_format(args.input)  # os.stat checks first: nothing opened yet
  model_files.check_output_path(args.output, overwrite=args.overwrite, inputs=[args.input])
  new_model, report = rewrite_model(load_keras_model(args.input, unsafe=args.unsafe),
                                    int32_inputs=args.int32_inputs)
  print(report.summary())
  written = save_model(new_model, args.output, overwrite=args.overwrite, inputs=[args.input],
                       unsafe=args.unsafe)
  print(f"\nWrote {written}.")
  if Path(args.output).suffix.lower() in model_files.FILE_SUFFIXES:
    print("Load it after `import tftrt_masking.layers` (registers the layers).")
  else:
    print("Load it after `tftrt_masking.load_ops()` (registers the ops).")
  return 0


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser(
      "rewrite", help="swap a Keras model's Masking/LSTM/GRU/SimpleRNN/Bidirectional for ours",
      description="Loads IN (.keras, .h5, or a tf_keras SavedModel folder), swaps its Masking "
      "and masked recurrent layers for tftrt_masking's where the ops can serve them, copies "
      "the weights, prints what was swapped and what stayed Keras (and why), and writes OUT: "
      "a .keras / .h5 file by suffix, else a SavedModel folder. It never writes over IN, "
      "nor over an existing OUT without --overwrite, and refuses model files that store "
      "Python code (Lambda layers) unless --unsafe.")
  parser.add_argument("input", metavar="IN", help="Keras model file or SavedModel folder")
  parser.add_argument("output", metavar="OUT", help="output .keras / .h5 file or SavedModel folder")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace OUT if it exists (a file or a SavedModel folder; never IN): "
                      "the new model is written beside it, loaded back, then swapped in")
  parser.add_argument("--unsafe", action="store_true",
                      help="allow loading Python code stored in the model file (Lambda "
                      "layers); only for files from a source you trust")
  parser.add_argument("--int32-inputs", action="store_true",
                      help="rewrite int64 inputs (token ids) as int32: TensorRT 8.6 has no "
                      "int64 tensors, so without this the layers reading them stay in "
                      "TensorFlow")
  parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                      help="import MODULE (a module name or a .py file) before loading, to "
                      "register custom layers; repeatable")
  parser.set_defaults(func=_run_cli)

