"""Bidirectional: a drop-in for Keras' Bidirectional whose forward and backward
layers are this project's LSTM / GRU / SimpleRNN.

Keras' own wrapper does the rest (spec section 4): the backward layer is a copy
with go_backwards flipped that gets the same un-reversed mask, its output is
flipped in time, both directions use zero_output_for_mask=return_sequences, and
the merge modes concat/sum/ave/mul/None. In the TF graph that is two masked
recurrence ops plus ReverseV2 and the merge (ConcatV2, Add, ...), which the
TF-TRT converters handle. Weights (forward then backward) are Keras' own.
"""

from __future__ import annotations

import functools

import keras

from tftrt_masking import _keras
from tftrt_masking.layers import recurrent
from tftrt_masking.layers.tf_keras_base import TfKerasDropIn


def keras_to_tftrt_classes():
  """{Keras 3 recurrent class: our class}."""
  return {keras.layers.LSTM: recurrent.LSTM, keras.layers.GRU: recurrent.GRU,
          keras.layers.SimpleRNN: recurrent.SimpleRNN}


def tf_keras_to_tftrt_classes():
  """{tf_keras recurrent class: our tf_keras class} ({} without tf_keras)."""
  tf_keras = _keras.tf_keras_or_none()
  ours = recurrent.tf_keras_recurrent_classes()
  if tf_keras is None:
    return {}
  return {getattr(tf_keras.layers, name): cls for name, cls in ours.items()}


def _as_ours(layer, classes):
  """Our equivalent of an (unbuilt) Keras recurrent layer; other layers as they are.

  Bidirectional rebuilds its forward layer from the config anyway, and a
  built backward layer keeps its weights (as in Keras).
  """
  cls = classes.get(type(layer))
  if cls is None:
    return layer
  ours = cls.from_config(layer.get_config())
  if layer.built and layer.weights:
    ours.build((None, None, int(layer.cell.kernel.shape[0])))
    ours.set_weights(layer.get_weights())
  return ours


class BidirectionalBehaviour:
  """Servability of the wrapper = servability of both directions.

  Subclasses set `tftrt_classes` to the {Keras class: our class} function of
  their Keras line; Keras' own layers passed in are swapped for ours.
  """

  tftrt_classes = staticmethod(keras_to_tftrt_classes)

  def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
    classes = self.tftrt_classes()
    layer = _as_ours(layer, classes)
    if backward_layer is not None:
      backward_layer = _as_ours(backward_layer, classes)
    super().__init__(layer, merge_mode=merge_mode, weights=weights,
                     backward_layer=backward_layer, **kwargs)

  def unservable_reasons(self) -> list:
    reasons = []
    for direction, layer in (("forward", self.forward_layer), ("backward", self.backward_layer)):
      check = getattr(layer, "unservable_reasons", None)
      if check is None:
        reasons.append(f"{direction} layer {type(layer).__name__} is not an LSTM, GRU or "
                       "SimpleRNN of this project")
      else:
        reasons.extend(f"{direction}: {reason}" for reason in check())
    return reasons

  def servable(self) -> bool:
    return not self.unservable_reasons()


@keras.saving.register_keras_serializable(package="tftrt_masking")
class Bidirectional(BidirectionalBehaviour, keras.layers.Bidirectional):
  """Drop-in for keras.layers.Bidirectional (Keras 3) over our recurrent layers.

  Accepts Keras' own LSTM/GRU/SimpleRNN too and swaps them for ours.
  """

  # Keras 3.15's fused bidirectional cuDNN paths (only taken without a mask)
  # would bypass our layers; the ops serve masked and unmasked calls alike.
  # The one expected difference from Keras (README, docs/REWRITE.md): these
  # two switches answer False, so Keras' test_fused_*_eligibility fail.
  def _can_attempt_fused_lstm(self, *args, **kwargs):
    del args, kwargs
    return False

  def _can_attempt_fused_gru(self, *args, **kwargs):
    del args, kwargs
    return False


@functools.lru_cache(maxsize=None)
def tf_keras_bidirectional_class():
  """The tf_keras flavour of Bidirectional (None where tf_keras is not importable)."""
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is None:
    return None

  @tf_keras.utils.register_keras_serializable(package="tftrt_masking")
  class TfKerasBidirectional(TfKerasDropIn, BidirectionalBehaviour,
                             tf_keras.layers.Bidirectional):
    """Drop-in for tf_keras.layers.Bidirectional over our tf_keras recurrent layers."""

    tftrt_classes = staticmethod(tf_keras_to_tftrt_classes)

    @classmethod
    def from_config(cls, config, custom_objects=None):
      # tf_keras' legacy (.h5) config names the inner layer by its bare class
      # name ('TfKerasLSTM'), not by its registered 'tftrt_masking>' name.
      ours = {c.__name__: c for c in recurrent.tf_keras_recurrent_classes().values()}
      return super().from_config(config, custom_objects={**ours, **(custom_objects or {})})

  return TfKerasBidirectional
