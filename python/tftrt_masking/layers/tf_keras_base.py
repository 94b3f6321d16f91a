"""What every tf_keras layer class of ours shares (TfKerasMasking, TfKerasLSTM,
TfKerasGRU, TfKerasSimpleRNN, TfKerasBidirectional)."""

from __future__ import annotations

_CLASS_PREFIX = "TfKeras"


class TfKerasDropIn:
  """Mixed in before the tf_keras class a layer of ours stands in for.

  - Default names: tf_keras names a layer after its class, so TfKerasLSTM
    would be 'tf_keras_lstm'. Ours take the name of the Keras class ('lstm',
    'simple_rnn', 'bidirectional', 'masking'), as name-based weight loading
    and Keras' own tests expect. A user's subclass keeps tf_keras' rule.
  - Loading a .keras file: a custom layer is built from the stored input
    shape, a JSON list, which tf_keras' RNN.build reads as a list of shapes
    (its own layers never take this path). It is passed on as a tuple.
  """

  def _init_set_name(self, name, zero_based=True):
    class_name = type(self).__name__
    if name is None and class_name.startswith(_CLASS_PREFIX):
      # pylint: disable=import-outside-toplevel
      from tf_keras.src import backend
      from tf_keras.src.utils import generic_utils

      name = backend.unique_object_name(
          generic_utils.to_snake_case(class_name[len(_CLASS_PREFIX):]), zero_based=zero_based)
    super()._init_set_name(name, zero_based=zero_based)

  def build_from_config(self, config):
    shape = config.get("input_shape")
    if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape):
      config = dict(config, input_shape=tuple(shape))
    super().build_from_config(config)
