"""The Python wrappers masked_lstm / masked_gru / masked_simple_rnn: argument
checks, defaults, activation names, and the op against the NumPy reference
where Keras cannot go (B=0, T=0, activations by name)."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import _keras, load_ops, recurrent_ops, reference

WRAPPERS = {"lstm": recurrent_ops.masked_lstm, "gru": recurrent_ops.masked_gru,
            "simple_rnn": recurrent_ops.masked_simple_rnn}
OP_NAMES = {"lstm": "MaskedLSTM", "gru": "MaskedGRU", "simple_rnn": "MaskedSimpleRNN"}


def random_weights(rng, cell, features, units, reset_after=True, dtype=np.float32):
  gates = reference.GATES[cell]
  kernel = rng.standard_normal((features, gates * units)).astype(dtype) * 0.5
  recurrent_kernel = rng.standard_normal((units, gates * units)).astype(dtype) * 0.5
  bias_shape = (2, gates * units) if cell == "gru" and reset_after else (gates * units,)
  bias = rng.standard_normal(bias_shape).astype(dtype) * 0.5
  return kernel, recurrent_kernel, bias


def run_wrapper(cell, x, weights, mask=None, initial_state=None, **kwargs):
  outputs = WRAPPERS[cell](x, *weights, mask=mask, initial_state=initial_state, **kwargs)
  return [np.asarray(o) for o in outputs]


def reference_outputs(cell, x, weights, mask=None, initial_state=None, **kwargs):
  kernel, recurrent_kernel, bias = (None if w is None else np.float64(w) for w in weights)
  activation_name = kwargs.pop("activation", "tanh")
  output, states = reference.masked_rnn(
      cell, np.float64(x), mask, kernel, recurrent_kernel, bias,
      None if initial_state is None else [np.float64(s) for s in initial_state],
      activation_name=activation_name, **kwargs)
  return [output] + list(states)


@pytest.fixture(scope="module", autouse=True)
def op_library():
  load_ops()  # the tests below need the compiled ops


# --- argument checks: a clear error naming the op and the shapes -------------

def test_rank_must_be_3(rng):
  kernel, recurrent_kernel, bias = random_weights(rng, "lstm", 3, 2)
  with pytest.raises(ValueError, match=r"MaskedLSTM: x must have rank 3.*\(4, 3\)"):
    recurrent_ops.masked_lstm(np.zeros((4, 3), np.float32), kernel, recurrent_kernel, bias)


def test_unsupported_dtype(rng):
  kernel, recurrent_kernel, bias = random_weights(rng, "gru", 3, 2)
  with pytest.raises(TypeError, match=r"MaskedGRU: x must be float16.*int32.*\(2, 5, 3\)"):
    recurrent_ops.masked_gru(np.zeros((2, 5, 3), np.int32), kernel, recurrent_kernel, bias)


def test_mismatched_mask_shape(rng):
  kernel, recurrent_kernel, bias = random_weights(rng, "simple_rnn", 3, 2)
  with pytest.raises(ValueError, match=r"MaskedSimpleRNN: mask .*\[2, 5\].*\(2, 4\)"):
    recurrent_ops.masked_simple_rnn(np.zeros((2, 5, 3), np.float32), kernel, recurrent_kernel,
                                    bias, mask=np.ones((2, 4), bool))


@pytest.mark.parametrize("which", ["kernel", "recurrent_kernel", "bias"])
def test_wrong_weight_shapes(rng, which):
  weights = dict(zip(("kernel", "recurrent_kernel", "bias"), random_weights(rng, "lstm", 3, 2)))
  weights[which] = weights[which][..., :-1]  # one column short
  with pytest.raises(ValueError, match=rf"MaskedLSTM: {which}.*must have shape"):
    recurrent_ops.masked_lstm(np.zeros((2, 5, 3), np.float32), **weights)


def test_gru_bias_layout_follows_reset_after(rng):
  kernel, recurrent_kernel, bias = random_weights(rng, "gru", 3, 2, reset_after=True)
  with pytest.raises(ValueError, match=r"MaskedGRU: bias.*\[6\].*\(2, 6\)"):
    recurrent_ops.masked_gru(np.zeros((2, 5, 3), np.float32), kernel, recurrent_kernel, bias,
                             reset_after=False)


def test_wrong_initial_state(rng):
  weights = random_weights(rng, "lstm", 3, 2)
  x = np.zeros((2, 5, 3), np.float32)
  with pytest.raises(ValueError, match=r"MaskedLSTM: expected 2 initial state"):
    recurrent_ops.masked_lstm(x, *weights, initial_state=[np.zeros((2, 2), np.float32)])
  with pytest.raises(ValueError, match=r"MaskedLSTM: initial_c .*\[2, 2\].*\(3, 2\)"):
    recurrent_ops.masked_lstm(x, *weights, initial_state=[np.zeros((2, 2), np.float32),
                                                          np.zeros((3, 2), np.float32)])


def test_unsupported_activation(rng):
  weights = random_weights(rng, "lstm", 3, 2)
  with pytest.raises(ValueError, match=r"MaskedLSTM: activation=elu is not supported"):
    recurrent_ops.masked_lstm(np.zeros((2, 5, 3), np.float32), *weights,
                              activation=keras.activations.elu)


def test_dynamic_shapes_are_checked_by_the_op(rng):
  """Unknown B and T at trace time: the op's kernel still rejects a bad mask."""
  weights = random_weights(rng, "lstm", 3, 2)

  @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.float32),
                                tf.TensorSpec([None, None], tf.bool)])
  def run(x, mask):
    return recurrent_ops.masked_lstm(x, *weights, mask=mask)[0]

  assert run(np.zeros((2, 5, 3), np.float32), np.ones((2, 5), bool)).shape == (2, 2)
  with pytest.raises(tf.errors.InvalidArgumentError, match="mask"):
    run(np.zeros((2, 5, 3), np.float32), np.ones((2, 4), bool))


# --- defaults and names -------------------------------------------------------

def test_activation_names_from_keras_functions():
  assert recurrent_ops.activation_name(keras.activations.tanh) == "tanh"
  assert recurrent_ops.activation_name(keras.activations.hard_sigmoid) == "hard_sigmoid"
  assert recurrent_ops.activation_name(None) == "linear"
  assert recurrent_ops.activation_name("relu") == "relu"
  assert recurrent_ops.activation_name(keras.activations.elu) is None
  assert recurrent_ops.activation_name(lambda v: v) is None
  tf_keras = _keras.tf_keras_or_none()
  if tf_keras is not None:  # tf_keras' hard_sigmoid is the Keras 2 form
    assert recurrent_ops.activation_name(tf_keras.activations.hard_sigmoid) == (
        "hard_sigmoid_keras2")


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_defaults_mask_none_zero_state(rng, cell):
  x = rng.standard_normal((3, 6, 4)).astype(np.float32)
  weights = random_weights(rng, cell, 4, 5)
  n_states = 2 if cell == "lstm" else 1
  zeros = [np.zeros((3, 5), np.float32)] * n_states
  explicit = run_wrapper(cell, x, weights, mask=np.ones((3, 6), bool), initial_state=zeros,
                         return_sequences=True)
  defaults = run_wrapper(cell, x, weights, return_sequences=True)
  for a, b in zip(explicit, defaults):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_no_bias_equals_zero_bias(rng, cell):
  x = rng.standard_normal((3, 6, 4)).astype(np.float32)
  kernel, recurrent_kernel, bias = random_weights(rng, cell, 4, 5)
  with_zero_bias = run_wrapper(cell, x, (kernel, recurrent_kernel, np.zeros_like(bias)))
  without_bias = run_wrapper(cell, x, (kernel, recurrent_kernel, None))
  for a, b in zip(with_zero_bias, without_bias):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_integer_mask_means_nonzero_keeps(rng):
  x = rng.standard_normal((3, 6, 4)).astype(np.float32)
  weights = random_weights(rng, "gru", 4, 5)
  mask = rng.random((3, 6)) > 0.4
  as_bool = run_wrapper("gru", x, weights, mask=mask, return_sequences=True)
  as_int = run_wrapper("gru", x, weights, mask=mask.astype(np.int32) * 7, return_sequences=True)
  for a, b in zip(as_bool, as_int):
    np.testing.assert_array_equal(a, b)


# --- against the NumPy reference ----------------------------------------------

@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("shape", [(0, 4, 3), (2, 0, 3), (1, 1, 3)], ids=["B0", "T0", "T1"])
def test_empty_and_single_step(rng, cell, shape):
  """Keras itself fails on B=0 / T=0; the op returns the empty output, and
  the initial state for T=0."""
  x = rng.standard_normal(shape).astype(np.float32)
  weights = random_weights(rng, cell, 3, 2)
  n_states = 2 if cell == "lstm" else 1
  initial_state = [rng.standard_normal((shape[0], 2)).astype(np.float32)
                   for _ in range(n_states)]
  for return_sequences in (True, False):
    got = run_wrapper(cell, x, weights, initial_state=initial_state,
                      return_sequences=return_sequences)
    expected = reference_outputs(cell, x, weights, initial_state=initial_state,
                                 return_sequences=return_sequences)
    for a, b in zip(got, expected):
      assert a.shape == b.shape
      np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell,activation,recurrent_activation", [
    ("lstm", "relu", "hard_sigmoid"),
    ("lstm", "linear", "hard_sigmoid_keras2"),
    ("gru", "relu", "hard_sigmoid_keras2"),
    ("gru", "tanh", "hard_sigmoid"),
    ("simple_rnn", "relu", None),
    ("simple_rnn", "sigmoid", None),
])
def test_activations_against_reference(rng, cell, activation, recurrent_activation):
  x = rng.standard_normal((3, 7, 4)).astype(np.float32)
  weights = random_weights(rng, cell, 4, 5)
  mask = rng.random((3, 7)) > 0.3
  kwargs = {"activation": activation, "return_sequences": True}
  if recurrent_activation is not None:
    kwargs["recurrent_activation"] = recurrent_activation
  got = run_wrapper(cell, x, weights, mask=mask, **kwargs)
  expected = reference_outputs(cell, x, weights, mask=mask, **kwargs)
  for a, b in zip(got, expected):
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-5)


def test_graph_holds_one_op(rng):
  weights = random_weights(rng, "lstm", 3, 2)
  graph = tf.function(lambda x: recurrent_ops.masked_lstm(x, *weights)).get_concrete_function(
      tf.TensorSpec([None, None, 3], tf.float32)).graph
  op_types = [op.type for op in graph.get_operations()]
  assert op_types.count("MaskedLSTM") == 1
  assert not any(t in ("While", "StatelessWhile") for t in op_types)
