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
import json
import numbers
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np

from tftrt_masking import _keras
from tftrt_masking.layers import bidirectional, masking, recurrent, registry

KERAS3 = registry.KERAS3
TF_KERAS = registry.TF_KERAS


class RewriteError(ValueError):
  """The input cannot be rewritten (not a Keras model, a subclassed model, ...)."""


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


def _clone_model(table: registry.LayerTable, model, clone_function, origins):
  """Keras' clone_model; for Keras 3 functional models the recorded masks
  are re-derived from the new layers (see _propagated_mask_call)."""
  if table.flavour == KERAS3 and not isinstance(model, keras.Sequential):
    return keras.models.clone_model(
        model, clone_function=clone_function,
        call_function=_propagated_mask_call(model, origins))
  return table.keras.models.clone_model(model, clone_function=clone_function)


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
    cell = getattr(candidate, "cell", None)
    if cell is not None and (getattr(cell, "dropout", 0) or getattr(cell, "recurrent_dropout", 0)):
      return ["dropout/recurrent_dropout: inference runs the op without dropout (no random "
              "state is read or written); training runs Keras' loop"]
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


def _rewrite_structure(model, table: registry.LayerTable, report: RewriteReport,
                       prefix: str = ""):
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
  return _clone_model(table, model, clone_function, origins)


def rewrite_model(model):
  """Returns (new_model, RewriteReport): the model with our Masking and
  recurrent layers where they can serve, same weights and outputs.

  `model` is a Keras 3 or tf_keras Sequential / functional model, built (it
  has weights). The original model is not changed.
  """
  table = registry.layer_table(_flavour(model))
  if not model.built:
    raise RewriteError(f"rewrite: model '{model.name}' is not built (it has no weights yet); "
                       "give it an Input or call it once first")
  report = RewriteReport(table.flavour, model.name)
  new_model = _rewrite_structure(model, table, report)
  old_weights = model.get_weights()
  new_shapes = [tuple(w.shape) for w in new_model.weights]
  old_shapes = [tuple(w.shape) for w in old_weights]
  if new_shapes != old_shapes:
    raise RewriteError(f"rewrite: the rewritten model's weights {new_shapes} do not line up "
                       f"with the original's {old_shapes}")
  new_model.set_weights(old_weights)
  return new_model, report


def register_layers() -> None:
  """Registers all our Keras serializable classes (the tf_keras ones are made lazily)."""
  masking.tf_keras_masking_class()
  recurrent.tf_keras_recurrent_classes()
  bidirectional.tf_keras_bidirectional_class()


def _is_saved_model(path: Path) -> bool:
  return path.is_dir() and ((path / "saved_model.pb").is_file()
                            or (path / "saved_model.pbtxt").is_file())


def _saved_by_keras_version(path: Path) -> str:
  """The keras_version a .keras (metadata.json) or .h5 (root attribute) file
  records, or '' when it cannot be read."""
  try:
    if path.suffix == ".keras":
      with zipfile.ZipFile(path) as archive:
        return str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    import h5py  # pylint: disable=import-outside-toplevel
    with h5py.File(path, "r") as h5_file:
      version = h5_file.attrs.get("keras_version", "")
      return version.decode() if isinstance(version, bytes) else str(version)
  except Exception:  # pylint: disable=broad-except
    return ""  # not readable here: the loaders below say what is wrong


def load_keras_model(path):
  """Loads a Keras model from a .keras / .h5 file or a SavedModel folder.

  A SavedModel only holds a Keras model when tf_keras wrote it (model.save):
  Keras 3's model.export and tf.saved_model.save keep just the TF graph.
  """
  register_layers()
  path = Path(path)
  if not path.exists():
    raise RewriteError(f"rewrite: {path} does not exist")
  tf_keras = _keras.tf_keras_or_none()
  if _is_saved_model(path):
    if not (path / "keras_metadata.pb").is_file() or tf_keras is None:
      raise RewriteError(
          f"rewrite: the SavedModel {path} has no Keras model in it (no keras_metadata.pb: "
          "it was written by Keras 3's model.export or tf.saved_model.save, which keep only "
          "the TF graph). Rewrite the Keras model itself (.keras / .h5 file) instead.")
    return tf_keras.models.load_model(str(path), compile=False)
  if path.suffix not in (".keras", ".h5", ".hdf5"):
    raise RewriteError(f"rewrite: {path} is neither a .keras / .h5 file nor a SavedModel folder")
  errors = []
  loaders = [("Keras 3", keras.models.load_model)]
  if tf_keras is not None:
    tf_keras_loader = ("tf_keras", tf_keras.models.load_model)
    # Keras 3 also reads tf_keras files; load them with tf_keras to keep the model tf_keras.
    if _saved_by_keras_version(path).startswith("2."):
      loaders.insert(0, tf_keras_loader)
    else:
      loaders.append(tf_keras_loader)
  for label, load in loaders:
    try:
      return load(str(path), compile=False)
    except Exception as e:  # pylint: disable=broad-except
      errors.append(f"{label}: {type(e).__name__}: {e}")
  raise RewriteError(f"rewrite: could not load {path} as a Keras model:\n  " + "\n  ".join(errors))


def save_model(model, out) -> str:
  """Writes `model` to `out`: a .keras / .h5 file by suffix, else a SavedModel
  folder (Keras 3: model.export; tf_keras: model.save in the TF format).
  Returns what was written, in words."""
  out = Path(out)
  flavour = _flavour(model)
  if out.suffix in (".keras", ".h5"):
    model.save(str(out))
    return f"{out.suffix[1:]} file {out}"
  if flavour == KERAS3:
    model.export(str(out), verbose=False)
    return f"SavedModel {out} (Keras 3 export: signature 'serve' / 'serving_default')"
  model.save(str(out), save_format="tf")
  return f"SavedModel {out} (tf_keras; loads with tf_keras.models.load_model too)"


def rewrite_path(source, out=None):
  """rewrite_model on a model file / SavedModel; writes the result to `out`
  when given. Returns (new_model, report)."""
  model = load_keras_model(source)
  new_model, report = rewrite_model(model)
  if out is not None:
    save_model(new_model, out)
  return new_model, report


def _run_cli(args) -> int:
  try:
    model = load_keras_model(args.input)
    new_model, report = rewrite_model(model)
    print(report.summary())
  except RewriteError as e:
    print(str(e), file=sys.stderr)
    return 2
  try:
    written = save_model(new_model, args.output)
  except (OSError, ValueError) as e:
    print(f"rewrite: could not write {args.output}: {type(e).__name__}: {e}", file=sys.stderr)
    return 2
  print(f"\nWrote {written}.")
  if str(args.output).endswith((".keras", ".h5")):
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
      "a .keras / .h5 file by suffix, else a SavedModel folder.")
  parser.add_argument("input", metavar="IN", help="Keras model file or SavedModel folder")
  parser.add_argument("output", metavar="OUT", help="output .keras / .h5 file or SavedModel folder")
  parser.set_defaults(func=_run_cli)

