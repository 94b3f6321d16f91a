"""tftrt_masking.layers.Bidirectional against Keras' Bidirectional on the same
weights (spec section 4 and case 11): every merge mode, return_sequences and
return_state, left / right / hole masks; Keras 3 and tf_keras."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import _keras, layers, load_ops

UNITS, FEATURES, BATCH, STEPS = 4, 3, 5, 8
MERGE_MODES = ["concat", "sum", "ave", "mul", None]
CELLS = [("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}), ("SimpleRNN", {})]
CELL_IDS = ["lstm", "gru", "gru_reset_before", "simple_rnn"]


@pytest.fixture(scope="module", autouse=True)
def op_library():
  load_ops()


def make_mask(kind, rng):
  mask = np.ones((BATCH, STEPS), bool)
  if kind == "holes":
    mask = rng.random((BATCH, STEPS)) > 0.3
    mask[:, 2] = False
  elif kind == "left":
    for row in range(BATCH):
      mask[row, :rng.integers(0, STEPS)] = False
    mask[0] = False
  elif kind == "right":
    for row in range(BATCH):
      mask[row, STEPS - rng.integers(0, STEPS):] = False
    mask[-1] = False
  return mask


def wrapped_pair(keras_module, ours_class, cell, merge_mode, rng, **kwargs):
  """Keras' Bidirectional and ours, both over Keras' layer: ours swaps it for
  our layer; weights copied from Keras' (random biases too)."""
  theirs = keras_module.layers.Bidirectional(
      getattr(keras_module.layers, cell)(UNITS, **kwargs), merge_mode=merge_mode)
  ours = ours_class(getattr(keras_module.layers, cell)(UNITS, **kwargs), merge_mode=merge_mode)
  x = np.zeros((1, STEPS, FEATURES), np.float32)
  theirs(x)
  ours(x)
  weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.6 for w in theirs.get_weights()]
  theirs.set_weights(weights)
  ours.set_weights(weights)
  return theirs, ours


def flat(outputs):
  return [np.asarray(o) for o in tf.nest.flatten(outputs)]


def assert_all_close(ours, theirs, atol=1e-6):
  ours, theirs = flat(ours), flat(theirs)
  assert len(ours) == len(theirs)
  for a, b in zip(ours, theirs):
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("mask_kind", ["holes", "left", "right"])
@pytest.mark.parametrize("cell,kwargs", CELLS, ids=CELL_IDS)
def test_matches_keras(rng, cell, kwargs, merge_mode, return_sequences, mask_kind):
  theirs, ours = wrapped_pair(keras, layers.Bidirectional, cell, merge_mode, rng,
                              return_sequences=return_sequences, **kwargs)
  our_class = getattr(layers, cell)
  assert type(ours.forward_layer) is our_class and type(ours.backward_layer) is our_class
  assert ours.backward_layer.go_backwards and not ours.forward_layer.go_backwards
  x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
  mask = make_mask(mask_kind, rng)
  got = ours(x, mask=mask)
  assert_all_close(got, theirs(x, mask=mask))
  if return_sequences and merge_mode == "concat":
    # Both directions zero the masked positions (zero_output_for_mask forced on).
    np.testing.assert_array_equal(np.asarray(got)[~mask], 0.0)


@pytest.mark.parametrize("cell,kwargs", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("merge_mode", ["concat", None], ids=str)
def test_return_state(rng, cell, kwargs, merge_mode):
  """return_state: output(s) then forward states then backward states (5 for LSTM concat)."""
  theirs, ours = wrapped_pair(keras, layers.Bidirectional, cell, merge_mode, rng,
                              return_sequences=True, return_state=True, **kwargs)
  x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
  mask = make_mask("holes", rng)
  got = ours(x, mask=mask)
  expected_count = (2 if merge_mode is None else 1) + (4 if cell == "LSTM" else 2)
  assert len(flat(got)) == expected_count
  assert_all_close(got, theirs(x, mask=mask))


def test_initial_states(rng):
  theirs, ours = wrapped_pair(keras, layers.Bidirectional, "LSTM", "concat", rng,
                              return_sequences=True)
  x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
  mask = make_mask("left", rng)
  states = [tf.constant(rng.standard_normal((BATCH, UNITS)), tf.float32) for _ in range(4)]
  assert_all_close(ours(x, mask=mask, initial_state=states),
                   theirs(x, mask=mask, initial_state=states))


def test_graph_has_two_ops_and_a_reverse(rng):
  _, ours = wrapped_pair(keras, layers.Bidirectional, "LSTM", "concat", rng,
                         return_sequences=True)
  fn = tf.function(lambda x, mask: ours(x, mask=mask))
  graph = fn.get_concrete_function(tf.TensorSpec([None, None, FEATURES], tf.float32),
                                   tf.TensorSpec([None, None], tf.bool)).graph
  op_types = [op.type for op in graph.get_operations()]
  assert op_types.count("MaskedLSTM") == 2
  assert "ReverseV2" in op_types
  assert not any(t in ("While", "StatelessWhile") for t in op_types)


def test_config_round_trip_keeps_our_layers(rng, tmp_path):
  _, ours = wrapped_pair(keras, layers.Bidirectional, "GRU", "sum", rng, return_sequences=True)
  clone = layers.Bidirectional.from_config(ours.get_config())
  assert type(clone.forward_layer) is layers.GRU and type(clone.backward_layer) is layers.GRU
  inputs = keras.Input((STEPS, FEATURES))
  model = keras.Model(inputs, ours(layers.Masking(0.0)(inputs)))
  path = tmp_path / "model.keras"
  model.save(path)
  loaded = keras.models.load_model(path)
  x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
  x[:, 4] = 0.0
  np.testing.assert_array_equal(loaded(x), model(x))
  assert type(loaded.layers[-1]) is layers.Bidirectional


def test_unservable_direction_is_reported(rng):
  layer = layers.Bidirectional(keras.layers.SimpleRNN(UNITS, activation="elu"))
  assert not layer.servable()
  assert any(r.startswith("forward: activation elu") for r in layer.unservable_reasons())
  assert any(r.startswith("backward: ") for r in layer.unservable_reasons())


@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_tf_keras_matches(rng, merge_mode, return_sequences):
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is None:
    pytest.skip("tf_keras is not installed")
  ours_class = layers.tf_keras_bidirectional_class()
  theirs, ours = wrapped_pair(tf_keras, ours_class, "LSTM", merge_mode, rng,
                              return_sequences=return_sequences, return_state=True)
  assert type(ours.forward_layer) is layers.tf_keras_recurrent_classes()["LSTM"]
  x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
  mask = tf.constant(make_mask("holes", rng))
  assert_all_close(ours(x, mask=mask), theirs(x, mask=mask))


@pytest.mark.parametrize("merge_mode", ["concat", "ave"])
def test_float16(rng, merge_mode):
  # The inner layer's dtype is what its recurrence computes in.
  theirs = keras.layers.Bidirectional(
      keras.layers.GRU(UNITS, return_sequences=True, dtype="float16"), merge_mode=merge_mode,
      dtype="float16")
  ours = layers.Bidirectional(
      keras.layers.GRU(UNITS, return_sequences=True, dtype="float16"), merge_mode=merge_mode,
      dtype="float16")
  x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float16)
  theirs(x)
  ours(x)
  ours.set_weights(theirs.get_weights())
  assert ours.forward_layer.compute_dtype == ours.backward_layer.compute_dtype == "float16"
  mask = make_mask("right", rng)
  got, expected = np.asarray(ours(x, mask=mask)), np.asarray(theirs(x, mask=mask))
  assert got.dtype == expected.dtype == np.float16
  np.testing.assert_allclose(got.astype(np.float32), expected.astype(np.float32), rtol=0,
                             atol=1e-2)
