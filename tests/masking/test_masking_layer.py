"""The Masking layer as a drop-in: models, the LSTM that follows, serialization,
SavedModel, and tf_keras."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import _keras, layers, load_ops


def seed_input(rng):
  """The spec's seed example: 32x10x8 random, timesteps 3 and 5 zeroed."""
  x = rng.random((32, 10, 8)).astype(np.float32)
  x[:, 3, :] = 0.0
  x[:, 5, :] = 0.0
  return x


def masking_lstm_model(masking_layer, lstm):
  inputs = keras.Input((10, 8))
  return keras.Model(inputs, lstm(masking_layer(inputs)))


def test_seed_example_lstm_output_equals_keras_masking(rng):
  x = seed_input(rng)
  lstm = keras.layers.LSTM(32)
  ours = masking_lstm_model(layers.Masking(0.0), lstm)
  theirs = masking_lstm_model(keras.layers.Masking(0.0), lstm)
  np.testing.assert_array_equal(ours(x), theirs(x))
  # The mask reached the LSTM: the output equals the LSTM on the 8 kept steps.
  compact = np.delete(x, [3, 5], axis=1)
  np.testing.assert_allclose(ours(x), lstm(compact), rtol=0, atol=1e-6)
  # ... and without the mask it would differ.
  assert np.abs(np.asarray(lstm(x)) - np.asarray(ours(x))).max() > 1e-3


def test_sequential_model_and_mask_propagation(rng):
  x = seed_input(rng)
  model = keras.Sequential([keras.Input((10, 8)), layers.Masking(0.0),
                            keras.layers.LSTM(4, return_sequences=True)])
  reference = keras.Sequential([keras.Input((10, 8)), keras.layers.Masking(0.0),
                                keras.layers.LSTM(4, return_sequences=True)])
  reference.set_weights(model.get_weights())
  np.testing.assert_array_equal(model(x), reference(x))
  out = model(x)
  # Carried output at masked step 3: a bit-exact copy of step 2.
  np.testing.assert_array_equal(np.asarray(out)[:, 3], np.asarray(out)[:, 2])


def test_get_config_from_config_and_keras_serialization():
  layer = layers.Masking(mask_value=-1.5, name="mask_me")
  config = layer.get_config()
  assert config["mask_value"] == -1.5 and config["name"] == "mask_me"
  assert set(keras.layers.Masking(-1.5).get_config()) == set(config)
  clone = layers.Masking.from_config(config)
  assert clone.mask_value == -1.5 and clone.supports_masking
  restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
  assert isinstance(restored, layers.Masking) and restored.mask_value == -1.5


def test_keras_file_round_trip(rng, tmp_path):
  x = seed_input(rng)
  model = masking_lstm_model(layers.Masking(0.0), keras.layers.LSTM(6))
  path = tmp_path / "model.keras"
  model.save(path)
  loaded = keras.models.load_model(path)
  assert any(isinstance(l, layers.Masking) for l in loaded.layers)
  np.testing.assert_array_equal(loaded(x), model(x))


def test_saved_model_round_trip(rng, tmp_path):
  """A SavedModel with the op loads once the op library is loaded."""
  x = seed_input(rng)
  model = masking_lstm_model(layers.Masking(0.0), keras.layers.LSTM(6))
  export_dir = str(tmp_path / "saved_model")
  model.export(export_dir)
  load_ops()  # documented: load the op library before tf.saved_model.load
  loaded = tf.saved_model.load(export_dir)
  np.testing.assert_allclose(loaded.serve(x), model(x), rtol=0, atol=1e-6)
  graph_ops = {node.op for f in loaded.serve.get_concrete_function(
      tf.TensorSpec([None, 10, 8], tf.float32)).graph.as_graph_def().library.function
               for node in f.node_def}
  assert "Masking" in graph_ops
  # The LSTM's mask comes from the Masking op too, not from NotEqual/Any, which
  # TF-TRT cannot convert (Keras 3 records compute_mask in functional graphs).
  assert not {"Any", "NotEqual"} & graph_ops, graph_ops


def test_tf_keras_layer_matches_tf_keras(rng):
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is None:
    pytest.skip("tf_keras is not installed")
  masking_class = layers.tf_keras_masking_class()
  for mask_value in (0.0, -1.0, np.inf):
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    x[:, 2] = mask_value
    x[1, 4] = mask_value
    expected = tf_keras.layers.Masking(mask_value)(x)
    out = masking_class(mask_value)(x)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_array_equal(out._keras_mask, expected._keras_mask)  # pylint: disable=protected-access
  # And a tf_keras LSTM consumes the mask.
  x = seed_input(rng)
  lstm = tf_keras.layers.LSTM(5)
  model = tf_keras.Sequential([masking_class(0.0), lstm])
  reference = tf_keras.Sequential([tf_keras.layers.Masking(0.0), lstm])
  np.testing.assert_allclose(model(x), reference(x), rtol=0, atol=1e-6)
