"""tftrt_masking.layers.LSTM / GRU / SimpleRNN against Keras' own layers on the
same weights: spec section 7 cases 6-15 (Keras 3, and tf_keras where installed).
"""

import re

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import layers, load_ops

# (our class name, constructor kwargs): GRU in both reset_after forms.
CELLS = [("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}), ("SimpleRNN", {})]
CELL_IDS = ["lstm", "gru", "gru_reset_before", "simple_rnn"]
OP_TYPES = {"LSTM": "MaskedLSTM", "GRU": "MaskedGRU", "SimpleRNN": "MaskedSimpleRNN"}
UNITS, FEATURES = 5, 3


@pytest.fixture(scope="module", autouse=True)
def op_library():
  load_ops()


def make_mask(kind, batch, steps, rng):
  """Masks that separate right from subtly wrong (spec section 7)."""
  mask = np.ones((batch, steps), bool)
  if kind == "holes":  # random holes, step 3 masked everywhere (carry check)
    mask = rng.random((batch, steps)) > 0.3
    mask[:, 3] = False
  elif kind == "left":  # leading masked steps, varying per row, one row fully masked
    for row in range(batch):
      mask[row, :rng.integers(0, steps)] = False
    mask[0] = False
  elif kind == "right":  # trailing masked steps, varying per row, one row fully masked
    for row in range(batch):
      mask[row, steps - rng.integers(0, steps):] = False
    mask[-1] = False
  else:
    raise ValueError(kind)
  return mask


def keras_and_ours(name, kwargs, rng, keras_module=keras, ours_class=None, units=UNITS,
                   features=FEATURES, dtype=None):
  """A Keras layer and ours with identical, random (bias too) weights."""
  extra = {} if dtype is None else {"dtype": dtype}
  theirs = getattr(keras_module.layers, name)(units, **kwargs, **extra)
  ours = (ours_class or getattr(layers, name))(units, **kwargs, **extra)
  theirs.build((None, None, features))
  ours.build((None, None, features))
  weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.6 for w in theirs.get_weights()]
  theirs.set_weights(weights)
  ours.set_weights(weights)
  return theirs, ours


def initial_states(name, batch, rng, units=UNITS):
  count = 2 if name == "LSTM" else 1
  # Tensors, not arrays: tf_keras only takes tensors as initial_state.
  return [tf.constant(rng.standard_normal((batch, units)), tf.float32) for _ in range(count)]


def as_list(outputs):
  return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def assert_outputs_close(ours, theirs, atol=1e-6):
  ours, theirs = as_list(ours), as_list(theirs)
  assert len(ours) == len(theirs)
  for a, b in zip(ours, theirs):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def graph_op_types(layer, features, steps=None, **call_kwargs):
  """Op types of the layer's graph for unknown batch (and time, unless given)."""
  fn = tf.function(lambda x, mask: layer(x, mask=mask, **call_kwargs))
  graph = fn.get_concrete_function(tf.TensorSpec([None, steps, features], tf.float32),
                                   tf.TensorSpec([None, steps], tf.bool)).graph
  return [op.type for op in graph.get_operations()]


# --- spec 7, 8, 10, 12, 15: the masked loop against Keras --------------------

@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("mask_kind", ["holes", "left", "right"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_matches_keras(rng, cell, mask_kind, go_backwards, return_sequences):
  name, kwargs = cell
  kwargs = dict(kwargs, go_backwards=go_backwards, return_sequences=return_sequences,
                return_state=True)
  theirs, ours = keras_and_ours(name, kwargs, rng)
  x = rng.standard_normal((6, 9, FEATURES)).astype(np.float32)
  mask = make_mask(mask_kind, 6, 9, rng)
  state = initial_states(name, 6, rng)
  expected = theirs(x, mask=mask, initial_state=state)
  got = ours(x, mask=mask, initial_state=state)
  assert_outputs_close(got, expected)
  # Fully masked rows (left: row 0, right: last row) keep the initial state bit-exactly.
  for row in np.flatnonzero(~mask.any(axis=1)):
    for final, initial in zip(as_list(got)[1:], state):
      np.testing.assert_array_equal(final[row], np.asarray(initial)[row])


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_zero_initial_state_by_default(rng, cell):
  name, kwargs = cell
  theirs, ours = keras_and_ours(name, dict(kwargs, return_sequences=True), rng)
  x = rng.standard_normal((4, 7, FEATURES)).astype(np.float32)
  mask = make_mask("holes", 4, 7, rng)
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask))
  assert_outputs_close(ours(x), theirs(x))  # no mask at all


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_carry_and_leading_steps_bit_exact(rng, cell):
  """Spec 7 and 8: a masked step repeats the previous output bit for bit;
  leading masked steps output exactly 0, whatever the initial state."""
  name, kwargs = cell
  _, ours = keras_and_ours(name, dict(kwargs, return_sequences=True), rng)
  x = rng.standard_normal((5, 8, FEATURES)).astype(np.float32)
  mask = np.ones((5, 8), bool)
  mask[:, 3] = False
  mask[1, :2] = False  # row 1: two leading masked steps
  out = np.asarray(ours(x, mask=mask, initial_state=initial_states(name, 5, rng)))
  np.testing.assert_array_equal(out[:, 3], out[:, 2])
  np.testing.assert_array_equal(out[1, :2], np.zeros((2, UNITS), np.float32))
  assert not np.signbit(out[1, :2]).any()
  assert np.abs(out[1, 2]).max() > 0


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_zero_output_for_mask(rng, cell, return_sequences):
  """Spec 9: with zero_output_for_mask and right padding the last output is 0."""
  name, kwargs = cell
  kwargs = dict(kwargs, zero_output_for_mask=True, return_sequences=return_sequences)
  theirs, ours = keras_and_ours(name, kwargs, rng)
  x = rng.standard_normal((5, 8, FEATURES)).astype(np.float32)
  mask = make_mask("right", 5, 8, rng)
  mask[0, -2:] = False  # at least one right-padded row
  got = ours(x, mask=mask)
  assert_outputs_close(got, theirs(x, mask=mask))
  last = np.asarray(got)[:, -1] if return_sequences else np.asarray(got)
  np.testing.assert_array_equal(last[~mask[:, -1]], 0.0)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_gate_order(rng, name):
  """Spec 13: perturbing one gate block changes our output exactly as Keras'."""
  theirs, ours = keras_and_ours(name, {"return_sequences": True}, rng)
  x = rng.standard_normal((3, 6, FEATURES)).astype(np.float32)
  mask = make_mask("holes", 3, 6, rng)
  before = np.asarray(ours(x, mask=mask))
  gates = 4 if name == "LSTM" else 3
  for gate in range(gates):
    weights = theirs.get_weights()
    for w in weights[:2]:  # kernel and recurrent_kernel
      w[:, gate * UNITS:(gate + 1) * UNITS] += 0.5
    theirs.set_weights(weights)
    ours.set_weights(weights)
    got = np.asarray(ours(x, mask=mask))
    assert np.abs(got - before).max() > 1e-3, f"gate {gate} had no effect"
    assert_outputs_close(got, theirs(x, mask=mask))
    before = got


@pytest.mark.parametrize("cell,activation,recurrent_activation", [
    ("LSTM", "relu", "hard_sigmoid"), ("LSTM", "linear", "sigmoid"),
    ("GRU", "tanh", "hard_sigmoid"), ("SimpleRNN", "relu", None),
    ("SimpleRNN", "linear", None)])
def test_activations(rng, cell, activation, recurrent_activation):
  kwargs = {"activation": activation, "return_sequences": True}
  if recurrent_activation:
    kwargs["recurrent_activation"] = recurrent_activation
  theirs, ours = keras_and_ours(cell, kwargs, rng)
  assert ours.servable()
  x = rng.standard_normal((4, 7, FEATURES)).astype(np.float32)
  mask = make_mask("holes", 4, 7, rng)
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask), atol=2e-6)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_use_bias_false(rng, cell):
  name, kwargs = cell
  theirs, ours = keras_and_ours(name, dict(kwargs, use_bias=False), rng)
  x = rng.standard_normal((4, 7, FEATURES)).astype(np.float32)
  mask = make_mask("left", 4, 7, rng)
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask))


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (200, 6)], ids=["B1T1", "longT", "largeB"])
def test_sizes(rng, cell, shape):
  """Spec 15: T=1, a long sequence, a large batch."""
  name, kwargs = cell
  batch, steps = shape
  theirs, ours = keras_and_ours(name, dict(kwargs, return_sequences=True, return_state=True),
                                rng, units=8, features=4)
  x = rng.standard_normal((batch, steps, 4)).astype(np.float32) * 0.5
  mask = rng.random((batch, steps)) > 0.2
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask), atol=2e-6)


def test_long_sequence_large_batch_lstm(rng):
  theirs, ours = keras_and_ours("LSTM", {"return_sequences": True}, rng, units=16, features=8)
  x = rng.standard_normal((64, 300, 8)).astype(np.float32) * 0.5
  mask = make_mask("holes", 64, 300, rng)
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask), atol=5e-6)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("dtype", ["float16", "mixed_float16"])
def test_float16(rng, cell, dtype):
  name, kwargs = cell
  theirs, ours = keras_and_ours(name, dict(kwargs, return_sequences=True, return_state=True),
                                rng, dtype=dtype)
  x = rng.standard_normal((4, 7, FEATURES)).astype(np.float16)
  mask = make_mask("holes", 4, 7, rng)
  got, expected = as_list(ours(x, mask=mask)), as_list(theirs(x, mask=mask))
  for a, b in zip(got, expected):
    assert a.dtype == b.dtype == np.float16
    np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), rtol=0, atol=1e-2)


# --- the op really runs, and when it does not ----------------------------------

@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_graph_runs_our_op_not_a_loop(rng, cell):
  name, kwargs = cell
  _, ours = keras_and_ours(name, kwargs, rng)
  op_types = graph_op_types(ours, FEATURES)
  assert op_types.count(OP_TYPES[name]) == 1
  assert not any(t in ("While", "StatelessWhile") for t in op_types)


def test_training_runs_the_op_and_trains(rng):
  """The ops have gradients: training runs them too (dropout outside the op,
  tests/recurrent/test_training.py); recurrent dropout keeps Keras' loop."""
  theirs, ours = keras_and_ours("LSTM", {"dropout": 0.3}, rng)
  assert ours.servable()
  assert "MaskedLSTM" in graph_op_types(ours, FEATURES, training=True)
  assert "MaskedLSTM" in graph_op_types(ours, FEATURES, training=False)
  _, with_recurrent_dropout = keras_and_ours("LSTM", {"recurrent_dropout": 0.3}, rng)
  assert "MaskedLSTM" not in graph_op_types(with_recurrent_dropout, FEATURES, training=True)
  x = rng.standard_normal((4, 7, FEATURES)).astype(np.float32)
  mask = make_mask("holes", 4, 7, rng)
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask))  # inference: dropout off
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(ours(x, mask=mask, training=True))
  gradients = tape.gradient(loss, ours.trainable_weights)
  assert all(g is not None for g in gradients)


def test_compiled_model_predicts_with_op_and_fits(rng):
  """predict and fit run our op (never under XLA: it has no XLA kernel)."""
  model = keras.Sequential([keras.Input((7, FEATURES)), layers.Masking(0.0),
                            layers.SimpleRNN(4), keras.layers.Dense(1)])
  assert not model.layers[1].supports_jit
  model.compile(optimizer="sgd", loss="mse", jit_compile="auto")
  x = rng.standard_normal((8, 7, FEATURES)).astype(np.float32)
  x[:, 2] = 0.0
  np.testing.assert_allclose(model.predict(x, verbose=0), model(x), rtol=0, atol=1e-6)
  before = model.get_weights()
  model.fit(x, np.ones((8, 1), np.float32), epochs=1, verbose=0)
  assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("kwargs,reason", [
    ({"unroll": True}, "unroll=True"),
    ({"activation": "elu"}, "activation elu"),
    ({"recurrent_activation": "softsign"}, "recurrent_activation softsign"),
])
def test_unservable_configs_fall_back_to_keras(rng, kwargs, reason):
  theirs, ours = keras_and_ours("LSTM", dict(kwargs, return_sequences=True), rng)
  assert not ours.servable()
  assert any(reason in r for r in ours.unservable_reasons())
  x = rng.standard_normal((4, 7, FEATURES)).astype(np.float32)
  mask = make_mask("holes", 4, 7, rng)
  assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask))
  assert "MaskedLSTM" not in graph_op_types(ours, FEATURES, steps=7)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("layer_dtype", [None, "float64", "mixed_float16"])
def test_integer_inputs_like_keras(rng, cell, dtype, layer_dtype):
  """Keras 3 takes integer and bool inputs and computes in the compute dtype."""
  name, kwargs = cell
  theirs, ours = keras_and_ours(name, dict(kwargs, return_sequences=True), rng,
                                dtype=layer_dtype)
  x = tf.constant(rng.integers(0, 3, (4, 7, FEATURES)).astype(dtype))
  mask = make_mask("holes", 4, 7, rng)
  got, expected = ours(x, mask=mask), theirs(x, mask=mask)
  assert got.dtype == expected.dtype == tf.as_dtype(ours.compute_dtype)
  np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(expected, np.float32),
                             rtol=0, atol=1e-2 if layer_dtype == "mixed_float16" else 1e-6)
  assert OP_TYPES[name] in graph_op_types(ours, FEATURES)


def test_stateful_two_consecutive_calls(rng):
  """Spec 14: stateful layers stay on Keras' loop and carry masked state like Keras."""
  theirs = keras.layers.GRU(UNITS, stateful=True, return_sequences=True)
  ours = layers.GRU(UNITS, stateful=True, return_sequences=True)
  theirs.build((3, 6, FEATURES))
  ours.build((3, 6, FEATURES))
  ours.set_weights(theirs.get_weights())
  assert any("stateful" in r for r in ours.unservable_reasons())
  for _ in range(2):
    x = rng.standard_normal((3, 6, FEATURES)).astype(np.float32)
    mask = make_mask("right", 3, 6, rng)
    assert_outputs_close(ours(x, mask=mask), theirs(x, mask=mask))
    np.testing.assert_array_equal(np.asarray(ours.states[0]), np.asarray(theirs.states[0]))


# --- drop-in: models, config, weights, files -----------------------------------

def test_seed_example_in_a_model(rng):
  """Spec 6: Masking(0.) -> LSTM(32) equals the LSTM on the 8 kept steps."""
  x = rng.random((32, 10, 8)).astype(np.float32)
  x[:, 3] = 0.0
  x[:, 5] = 0.0
  lstm = layers.LSTM(32)
  model = keras.Sequential([keras.Input((10, 8)), layers.Masking(0.0), lstm])
  compact = np.delete(x, [3, 5], axis=1)
  np.testing.assert_allclose(model(x), lstm(compact), rtol=0, atol=1e-6)
  keras_lstm = keras.layers.LSTM(32)
  keras_lstm.build((None, None, 8))
  keras_lstm.set_weights(lstm.get_weights())
  np.testing.assert_allclose(model(x), keras_lstm(compact), rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell", CELLS, ids=CELL_IDS)
def test_get_config_and_weights_are_keras(rng, cell):
  name, kwargs = cell
  theirs, ours = keras_and_ours(name, dict(kwargs, return_sequences=True, go_backwards=True),
                                rng)
  their_config, our_config = theirs.get_config(), ours.get_config()
  del their_config["name"], our_config["name"]
  assert our_config == their_config
  assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
  assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
  clone = getattr(layers, name).from_config(ours.get_config())
  assert type(clone) is type(ours) and clone.go_backwards


def test_keras_checkpoint_loads_unchanged(rng, tmp_path):
  """A Keras model's .weights.h5 loads into the same model built from our layers."""
  def build(masking, lstm, gru):
    inputs = keras.Input((7, FEATURES))
    hidden = lstm(6, return_sequences=True)(masking(0.0)(inputs))
    return keras.Model(inputs, gru(4)(hidden))
  theirs = build(keras.layers.Masking, keras.layers.LSTM, keras.layers.GRU)
  ours = build(layers.Masking, layers.LSTM, layers.GRU)
  path = str(tmp_path / "model.weights.h5")
  theirs.save_weights(path)
  ours.load_weights(path)
  x = rng.standard_normal((5, 7, FEATURES)).astype(np.float32)
  x[:, 2] = 0.0
  x[1, 5:] = 0.0
  np.testing.assert_allclose(ours(x), theirs(x), rtol=0, atol=1e-6)


def test_keras_file_round_trip(rng, tmp_path):
  inputs = keras.Input((7, FEATURES))
  hidden = layers.GRU(6, return_sequences=True, reset_after=False)(layers.Masking(0.0)(inputs))
  model = keras.Model(inputs, layers.SimpleRNN(4, go_backwards=True)(hidden))
  path = tmp_path / "model.keras"
  model.save(path)
  loaded = keras.models.load_model(path)
  assert {type(l) for l in loaded.layers} >= {layers.GRU, layers.SimpleRNN, layers.Masking}
  x = rng.standard_normal((5, 7, FEATURES)).astype(np.float32)
  x[:, 2] = 0.0
  np.testing.assert_array_equal(loaded(x), model(x))


def test_output_mask(rng):
  """Output mask = input mask with return_sequences, None without."""
  x = rng.standard_normal((3, 6, FEATURES)).astype(np.float32)
  mask = make_mask("holes", 3, 6, rng)
  with_sequences = layers.LSTM(4, return_sequences=True)
  np.testing.assert_array_equal(with_sequences.compute_mask(x, mask), mask)
  assert layers.LSTM(4).compute_mask(x, mask) is None


# --- tf_keras ------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS + [("LSTM", {"recurrent_activation": "hard_sigmoid"})],
                         ids=CELL_IDS + ["lstm_hard_sigmoid_keras2"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_tf_keras_matches(rng, tf_keras, cell, go_backwards, return_sequences):
  name, kwargs = cell
  kwargs = dict(kwargs, go_backwards=go_backwards, return_sequences=return_sequences,
                return_state=True)
  theirs, ours = keras_and_ours(name, kwargs, rng, keras_module=tf_keras,
                                ours_class=layers.tf_keras_recurrent_classes()[name])
  assert ours.servable()
  x = rng.standard_normal((5, 8, FEATURES)).astype(np.float32)
  mask = make_mask("holes" if go_backwards else "left", 5, 8, rng)
  state = initial_states(name, 5, rng)
  assert_outputs_close(ours(x, mask=mask, initial_state=state),
                       theirs(x, mask=mask, initial_state=state))
  op_types = graph_op_types(ours, FEATURES)
  assert OP_TYPES[name] in op_types


def test_tf_keras_model_with_masking(rng, tf_keras):
  classes = layers.tf_keras_recurrent_classes()
  masking = layers.tf_keras_masking_class()
  model = tf_keras.Sequential([tf_keras.Input((10, 8)), masking(0.0), classes["LSTM"](6)])
  reference = tf_keras.Sequential([tf_keras.Input((10, 8)), tf_keras.layers.Masking(0.0),
                                   tf_keras.layers.LSTM(6)])
  reference.set_weights(model.get_weights())
  x = rng.random((8, 10, 8)).astype(np.float32)
  x[:, 3] = 0.0
  x[2, 6:] = 0.0
  np.testing.assert_allclose(model(x), reference(x), rtol=0, atol=1e-6)
  assert set(model.layers[1].get_config()) == set(reference.layers[1].get_config())


def test_tf_keras_checkpoint_loads_unchanged(rng, tmp_path, tf_keras):
  """A tf_keras TF-format checkpoint (object-path keyed) loads into our layers."""
  classes = layers.tf_keras_recurrent_classes()

  def build(lstm, gru):
    inputs = tf_keras.Input((7, FEATURES))
    hidden = lstm(6, return_sequences=True)(tf_keras.layers.Masking(0.0)(inputs))
    return tf_keras.Model(inputs, gru(4, reset_after=False)(hidden))

  theirs = build(tf_keras.layers.LSTM, tf_keras.layers.GRU)
  ours = build(classes["LSTM"], classes["GRU"])
  theirs.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.5
                      for w in theirs.get_weights()])
  path = str(tmp_path / "checkpoint")
  theirs.save_weights(path)
  ours.load_weights(path).assert_existing_objects_matched()
  x = rng.standard_normal((5, 7, FEATURES)).astype(np.float32)
  x[:, 2] = 0.0
  x[1, 5:] = 0.0
  np.testing.assert_allclose(ours(x), theirs(x), rtol=0, atol=1e-6)


def test_tf_keras_integer_inputs_fail_as_in_tf_keras(rng, tf_keras):
  """tf_keras rejects integer inputs (its MatMul): ours runs tf_keras' own code."""
  x = tf.constant(rng.integers(0, 3, (2, 4, FEATURES)).astype(np.int32))
  for name in ("LSTM", "GRU", "SimpleRNN"):
    theirs, ours = keras_and_ours(name, {}, rng, keras_module=tf_keras,
                                  ours_class=layers.tf_keras_recurrent_classes()[name])
    for layer in (theirs, ours):
      with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
        layer(x)


def test_tf_keras_default_names_are_keras(tf_keras):
  """tf_keras names a layer after its class: ours take the Keras class' name."""
  tf_keras.backend.clear_session()
  classes = layers.tf_keras_recurrent_classes()
  ours = [classes["LSTM"](2), classes["GRU"](2), classes["SimpleRNN"](2),
          layers.tf_keras_masking_class()(), layers.tf_keras_bidirectional_class()(
              classes["LSTM"](2))]
  theirs = [tf_keras.layers.LSTM(2), tf_keras.layers.GRU(2), tf_keras.layers.SimpleRNN(2),
            tf_keras.layers.Masking(), tf_keras.layers.Bidirectional(tf_keras.layers.LSTM(2))]
  assert [l.name for l in ours] == ["lstm", "gru", "simple_rnn", "masking", "bidirectional"]
  assert [re.sub(r"_[0-9]+$", "", l.name) for l in theirs] == [l.name for l in ours]

  class MyLSTM(classes["LSTM"]):
    pass

  assert MyLSTM(2).name.startswith("my_lstm")


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_tf_keras_return_runtime_runs_keras(rng, tf_keras, name):
  """tf_keras' test flag (`return_runtime` on LSTM, `_return_runtime` on GRU)."""
  ours = layers.tf_keras_recurrent_classes()[name](UNITS, return_runtime=True)
  assert any("return_runtime" in r for r in ours.unservable_reasons())
  x = rng.standard_normal((2, 4, FEATURES)).astype(np.float32)
  output, runtime = ours(x)
  assert output.shape == (2, UNITS) and runtime.shape == ()
