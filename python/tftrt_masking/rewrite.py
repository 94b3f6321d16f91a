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

from tftrt_masking import _keras, errors, model_files
from tftrt_masking.layers import bidirectional, masking, recurrent

KERAS3 = "keras"
TF_KERAS = "tf_keras"
RECURRENT_NAMES = ("LSTM", "GRU", "SimpleRNN")


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
  if isinstance(model, keras.Model):
    return KERAS3
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is not None and isinstance(model, tf_keras.Model):
    return TF_KERAS
  raise RewriteError(f"rewrite: expected a Keras 3 or tf_keras Model, got {type(model).__name__}")


class _Flavour:
  """The classes of one Keras line: theirs -> ours."""

  def __init__(self, flavour: str):
    self.flavour = flavour
    if flavour == KERAS3:
      self.keras = keras
      self.recurrent = bidirectional.keras_to_tftrt_classes()
      self.masking = {keras.layers.Masking: masking.Masking}
      self.bidirectional = {keras.layers.Bidirectional: bidirectional.Bidirectional}
    else:
      self.keras = _keras.tf_keras_or_none()
      self.recurrent = bidirectional.tf_keras_to_tftrt_classes()
      self.masking = {self.keras.layers.Masking: masking.tf_keras_masking_class()}
      self.bidirectional = {
          self.keras.layers.Bidirectional: bidirectional.tf_keras_bidirectional_class()}
    # keras.layers.RNN(<cell>) with one of Keras' own cells is that cell's layer.
    self.cells = {}
    for name in RECURRENT_NAMES:
      ours = self.recurrent.get(getattr(self.keras.layers, name))
      if ours is not None:
        self.cells[getattr(self.keras.layers, f"{name}Cell")] = ours
    self.ours = (tuple(self.recurrent.values()) + tuple(self.masking.values())
                 + tuple(self.bidirectional.values()))

  def is_rewritable_model(self, layer) -> bool:
    """Sequential or functional (what clone_model can walk)."""
    if isinstance(layer, self.keras.Sequential):
      return True
    if self.flavour == KERAS3:
      from keras.src.models.functional import Functional  # pylint: disable=import-outside-toplevel
    else:
      from tf_keras.src.engine.functional import Functional  # pylint: disable=import-outside-toplevel
    return isinstance(layer, Functional)

  def clone_model(self, model, clone_function, origins):
    """Keras' clone_model; for Keras 3 functional models the recorded masks
    are re-derived from the new layers (see _propagated_mask_call)."""
    if self.flavour == KERAS3 and not isinstance(model, keras.Sequential):
      return keras.models.clone_model(
          model, clone_function=clone_function,
          call_function=_propagated_mask_call(model, origins))
    return self.keras.models.clone_model(model, clone_function=clone_function)


def _keras_mask(tensor):
  try:
    from keras.src.backend import get_keras_mask  # pylint: disable=import-outside-toplevel
    return get_keras_mask(tensor)
  except (ImportError, AttributeError):
    return getattr(tensor, "_keras_mask", None)


def _propagated_mask_call(model, origins):
  """A clone_model call_function for Keras 3 functional models.

  A Keras 3 functional model records each layer's mask argument as a graph
  input: replaying the original graph would feed our recurrent layers the
  mask of Keras' Masking (NotEqual + Any, which TF-TRT cannot convert). Where
  Keras had propagated the mask from the layer's input, the clone takes the
  mask the new layers propagate instead (our Masking's op), as Keras would in
  a model built afresh. Explicit masks stay as recorded.
  `origins` maps id(new layer) -> original layer.
  """
  propagated, explicit = set(), set()
  for operation in model.operations:
    for node in getattr(operation, "_inbound_nodes", []):
      args, kwargs = node.arguments.args, node.arguments.kwargs
      if kwargs.get("mask") is None or not args:
        continue
      same = kwargs["mask"] is _keras_mask(args[0])
      (propagated if same else explicit).add(id(operation))

  def call_function(layer, *args, **kwargs):
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
      return ["dropout/recurrent_dropout: inference runs the op, training runs Keras' loop"]
  return []


def _layer_config_of_rnn(layer) -> dict:
  """The LSTM / GRU / SimpleRNN config equivalent to RNN(<that cell>): the
  cell's settings plus the RNN's, under the RNN's name."""
  cell_config = {k: v for k, v in layer.cell.get_config().items()
                 if k not in ("name", "trainable", "dtype")}
  rnn_config = {k: v for k, v in layer.get_config().items() if k != "cell"}
  return {**cell_config, **rnn_config}


def _clone_as_is(layer):
  return layer.__class__.from_config(layer.get_config())


def _rewrite_structure(model, flavour: _Flavour, report: RewriteReport, prefix: str = ""):
  """clone_model with our layers swapped in; fills `report`. No weights yet."""

  origins = {}  # id(new layer) -> original layer, for the call function

  def clone_function(layer):
    new_layer = _clone_one(layer)
    origins[id(new_layer)] = layer
    return new_layer

  def _clone_one(layer):
    name = prefix + layer.name
    keras_class = type(layer).__name__
    if type(layer).__name__ == "InputLayer":
      return _clone_as_is(layer)
    if isinstance(layer, flavour.keras.Model) and flavour.is_rewritable_model(layer):
      return _rewrite_structure(layer, flavour, report, prefix=name + "/")
    if isinstance(layer, flavour.ours):
      report.layers.append(LayerReport(name, keras_class, True, keras_class,
                                       notes=["already a tftrt_masking layer"]))
      return _clone_as_is(layer)
    ours = (flavour.masking.get(type(layer)) or flavour.recurrent.get(type(layer))
            or flavour.bidirectional.get(type(layer)))
    config = None
    if ours is None and type(layer) is flavour.keras.layers.RNN:
      ours = flavour.cells.get(type(layer.cell))
      if ours is not None:
        config = _layer_config_of_rnn(layer)
    if ours is None:
      if isinstance(layer, (flavour.keras.layers.RNN, flavour.keras.layers.Masking,
                            flavour.keras.layers.Bidirectional)):
        report.layers.append(LayerReport(
            name, keras_class, False,
            reasons=[f"{keras_class} is not Keras' own Masking, LSTM, GRU, SimpleRNN or "
                     "Bidirectional, nor an RNN of one of Keras' own cells (a subclass, a "
                     "custom or stacked cell): its behaviour is unknown"]))
      elif isinstance(layer, flavour.keras.layers.Layer):  # not a bare keras.ops Operation
        report.other_layer_count += 1
      return _clone_as_is(layer)
    try:
      candidate = ours.from_config(config or layer.get_config())
    except Exception as e:  # pylint: disable=broad-except
      report.layers.append(LayerReport(name, keras_class, False,
                                       reasons=[f"its config does not build ours: {e}"]))
      return _clone_as_is(layer)
    reasons = candidate.unservable_reasons() if hasattr(candidate, "unservable_reasons") else []
    if reasons:
      report.layers.append(LayerReport(name, keras_class, False, reasons=reasons))
      return _clone_as_is(layer)
    report.layers.append(LayerReport(name, keras_class, True, type(candidate).__name__,
                                     notes=_notes(candidate)))
    return candidate

  if not flavour.is_rewritable_model(model):
    raise RewriteError(
        f"rewrite: model '{model.name}' is a subclassed {type(model).__name__}; only "
        "Sequential and functional models can be walked. Build the layers of ours "
        "(tftrt_masking.layers) into it directly instead.")
  return flavour.clone_model(model, clone_function, origins)


def rewrite_model(model):
  """Returns (new_model, RewriteReport): the model with our Masking and
  recurrent layers where they can serve, same weights and outputs.

  `model` is a Keras 3 or tf_keras Sequential / functional model, built (it
  has weights). The original model is not changed.
  """
  flavour = _Flavour(_flavour(model))
  if not model.built:
    raise RewriteError(f"rewrite: model '{model.name}' is not built (it has no weights yet); "
                       "give it an Input or call it once first")
  report = RewriteReport(flavour.flavour, model.name)
  new_model = _rewrite_structure(model, flavour, report)
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


def rewrite_path(source, out=None, *, overwrite: bool = False, unsafe: bool = False):
  """rewrite_model on a model file / SavedModel; writes the result to `out`
  when given (never over `source`, over an existing path only with
  `overwrite`; see model_files.save_model). Returns (new_model, report)."""
  if out is not None:
    model_files.check_output_path(out, overwrite=overwrite, inputs=[source])
  model = load_keras_model(source, unsafe=unsafe)
  new_model, report = rewrite_model(model)
  if out is not None:
    save_model(new_model, out, overwrite=overwrite, inputs=[source], unsafe=unsafe)
  return new_model, report


def _run_cli(args) -> int:
  """Errors are raised: __main__ prints them as one line."""
  model_files.import_modules(args.imports)
  model_files.model_format(args.input)  # os.stat checks first: nothing opened yet
  model_files.check_output_path(args.output, overwrite=args.overwrite, inputs=[args.input])
  new_model, report = rewrite_model(load_keras_model(args.input, unsafe=args.unsafe))
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
  parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                      help="import MODULE (a module name or a .py file) before loading, to "
                      "register custom layers; repeatable")
  parser.set_defaults(func=_run_cli)

