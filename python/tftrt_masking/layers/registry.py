"""Which Keras class becomes which of ours: one table per Keras line.

The rewrite's clone step is a lookup here (`LayerTable.ours_for`):
- Keras' own Masking, LSTM, GRU, SimpleRNN, Bidirectional -> ours;
- keras.layers.RNN(<one of Keras' own cells>) -> our layer of that cell, with the
  cell's settings and the RNN's (`rnn_config_of`);
- TimeDistributed(<a layer that works on the last axis only>) -> that layer itself
  on the whole [B, T, ...] tensor, same weights: Keras 3 exports TimeDistributed
  with an unknown time axis as a while loop (and gets the output shape wrong),
  and TF-TRT converts no loop.

Classes are matched exactly (`type(layer) is ...`): a subclass may change the
behaviour, so it stays as it is and the rewrite says why.
"""

from __future__ import annotations

import dataclasses
import functools

import keras

from tftrt_masking import _keras
from tftrt_masking.layers import bidirectional, masking

KERAS3 = "keras"
TF_KERAS = "tf_keras"
RECURRENT_NAMES = ("LSTM", "GRU", "SimpleRNN")
# Layers that compute each step from that step alone, on the last axis:
# TimeDistributed(layer) equals layer on the whole tensor (rank 3 and up).
PER_STEP_LAYER_NAMES = ("Dense", "Activation", "Dropout", "ReLU", "LeakyReLU", "Softmax")
# Keras layers that cannot enter a TensorRT 8.6 engine whatever we rewrite,
# by class name, with the reason the rewrite report gives.
ENGINE_BLOCKERS = {
    "StringLookup": "string tensors and hash tables: TensorRT has neither",
    "TextVectorization": "string tensors and hash tables: TensorRT has neither",
    "IntegerLookup": "hash tables: TensorRT has none",
    "Hashing": "hash functions on strings/int64: TensorRT has none",
    "Lambda": "arbitrary Python code: its ops may or may not convert (see the segment report)",
    "ConvLSTM1D": "a while loop: TF-TRT converts no loop",
    "ConvLSTM2D": "a while loop: TF-TRT converts no loop",
    "ConvLSTM3D": "a while loop: TF-TRT converts no loop",
}


@dataclasses.dataclass(frozen=True)
class LayerTable:
  """The swaps of one Keras line (Keras 3 or tf_keras)."""
  flavour: str
  keras: object  # the keras / tf_keras module
  swaps: dict  # Keras class -> our class
  cells: dict  # Keras cell class -> our layer class, for keras.layers.RNN(cell)
  per_step: tuple  # classes TimeDistributed may be dropped around
  ours: tuple  # our classes (a model already rewritten)

  def ours_for(self, layer):
    """(our class, config for it) for a Keras layer we replace, else (None, None)."""
    ours = self.swaps.get(type(layer))
    if ours is not None:
      return ours, layer.get_config()
    if type(layer) is self.keras.layers.RNN:
      ours = self.cells.get(type(layer.cell))
      if ours is not None:
        return ours, rnn_config_of(layer)
    return None, None

  def per_step_inner(self, layer):
    """The layer inside a TimeDistributed that can run on the whole tensor, else None."""
    if type(layer) is not self.keras.layers.TimeDistributed:
      return None
    inner = layer.layer
    if type(inner) not in self.per_step:
      return None
    if type(inner).__name__ == "Softmax" and inner.get_config().get("axis", -1) != -1:
      return None
    return inner

  def is_recurrent_family(self, layer) -> bool:
    """A Masking / RNN / Bidirectional (subclass or custom cell included)."""
    return isinstance(layer, (self.keras.layers.RNN, self.keras.layers.Masking,
                              self.keras.layers.Bidirectional))

  def is_functional_or_sequential(self, layer) -> bool:
    """What clone_model can walk."""
    if isinstance(layer, self.keras.Sequential):
      return True
    if self.flavour == KERAS3:
      from keras.src.models.functional import Functional  # pylint: disable=import-outside-toplevel
    else:
      from tf_keras.src.engine.functional import Functional  # pylint: disable=import-outside-toplevel
    return isinstance(layer, Functional)


def rnn_config_of(layer) -> dict:
  """The LSTM / GRU / SimpleRNN config equivalent to RNN(<that cell>): the
  cell's settings plus the RNN's, under the RNN's name."""
  cell_config = {k: v for k, v in layer.cell.get_config().items()
                 if k not in ("name", "trainable", "dtype")}
  rnn_config = {k: v for k, v in layer.get_config().items() if k != "cell"}
  return {**cell_config, **rnn_config}


@functools.lru_cache(maxsize=None)
def layer_table(flavour: str) -> LayerTable:
  """The table of Keras 3 (`KERAS3`) or tf_keras (`TF_KERAS`)."""
  if flavour == KERAS3:
    module = keras
    recurrent = bidirectional.keras_to_tftrt_classes()
    swaps = {**recurrent, keras.layers.Masking: masking.Masking,
             keras.layers.Bidirectional: bidirectional.Bidirectional}
  elif flavour == TF_KERAS:
    module = _keras.tf_keras_or_none()
    recurrent = bidirectional.tf_keras_to_tftrt_classes()
    swaps = {**recurrent, module.layers.Masking: masking.tf_keras_masking_class(),
             module.layers.Bidirectional: bidirectional.tf_keras_bidirectional_class()}
  else:
    raise ValueError(f"unknown Keras flavour {flavour!r}")
  cells = {}
  for name in RECURRENT_NAMES:
    ours = recurrent.get(getattr(module.layers, name))
    if ours is not None:
      cells[getattr(module.layers, f"{name}Cell")] = ours
  per_step = tuple(getattr(module.layers, name) for name in PER_STEP_LAYER_NAMES
                   if hasattr(module.layers, name))
  return LayerTable(flavour, module, swaps, cells, per_step, tuple(set(swaps.values())))


def flavour_of(model) -> str | None:
  """KERAS3 or TF_KERAS for a Keras model or layer, None for anything else."""
  if isinstance(model, keras.layers.Layer):
    return KERAS3
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is not None and isinstance(model, tf_keras.layers.Layer):
    return TF_KERAS
  return None
