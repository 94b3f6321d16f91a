"""The raw MaskedLSTM / MaskedGRU / MaskedSimpleRNN ops (no Python wrapper):
bit-exactness against Keras' own CPU loop, the kernels' own errors, shape
inference with unknown batch and time, empty tensors and every dtype.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import reference
from tftrt_masking._loader import load_ops


def seed_input(rng):
  """The spec's seed example: 32x10x8 random, steps 3 and 5 zero."""
  x = rng.standard_normal((32, 10, 8)).astype(np.float32)
  x[:, 3] = 0
  x[:, 5] = 0
  return x, np.any(x != 0, axis=-1)


def test_seed_example_bit_equal_to_keras_and_to_compacted_sequence(rng):
  x, mask = seed_input(rng)
  lstm = keras.layers.LSTM(32)
  keras_masked = lstm(x, mask=mask).numpy()
  compact = np.delete(x, [3, 5], axis=1)
  kernel, recurrent_kernel, bias = (w.numpy() for w in lstm.weights)
  zeros = np.zeros((32, 32), np.float32)
  ours, _, _ = load_ops().masked_lstm(x, mask, kernel, recurrent_kernel, bias, zeros, zeros)
  ours_compact, _, _ = load_ops().masked_lstm(compact, np.ones((32, 8), bool), kernel,
                                              recurrent_kernel, bias, zeros, zeros)
  np.testing.assert_array_equal(ours.numpy(), keras_masked)
  np.testing.assert_array_equal(ours.numpy(), ours_compact.numpy())
  np.testing.assert_array_equal(ours.numpy(), lstm(compact).numpy())


def hand_mask(batch, steps):
  """Holes, left padding, right padding and a fully masked row."""
  mask = np.ones((batch, steps), bool)
  mask[0:4, 3] = False
  mask[4:8, :2] = False
  mask[8:12, steps - 3:] = False
  mask[12] = False
  return mask


LAYERS = {
    "lstm": lambda **kw: keras.layers.LSTM(12, **kw),
    "gru": lambda **kw: keras.layers.GRU(12, **kw),
    "gru_reset_before": lambda **kw: keras.layers.GRU(12, reset_after=False, **kw),
    "simple_rnn": lambda **kw: keras.layers.SimpleRNN(12, **kw),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_bit_equal_to_keras_cpu_loop(rng, name, go_backwards, zero_output_for_mask):
  x = rng.standard_normal((16, 9, 5)).astype(np.float32)
  mask = hand_mask(16, 9)
  layer = LAYERS[name](return_sequences=True, return_state=True, go_backwards=go_backwards,
                       zero_output_for_mask=zero_output_for_mask)
  h0 = rng.standard_normal((16, 12)).astype(np.float32)
  c0 = rng.standard_normal((16, 12)).astype(np.float32)
  initial = [h0, c0] if name == "lstm" else [h0]
  expected = [t.numpy() for t in layer(x, mask=mask, initial_state=initial)]
  kernel, recurrent_kernel, bias = (w.numpy() for w in layer.weights)
  attrs = dict(go_backwards=go_backwards, return_sequences=True,
               zero_output_for_mask=zero_output_for_mask)
  ops = load_ops()
  if name == "lstm":
    got = ops.masked_lstm(x, mask, kernel, recurrent_kernel, bias, h0, c0, **attrs)
  elif name.startswith("gru"):
    got = ops.masked_gru(x, mask, kernel, recurrent_kernel, bias, h0,
                         reset_after=layer.cell.reset_after, **attrs)
  else:
    got = ops.masked_simple_rnn(x, mask, kernel, recurrent_kernel, bias, h0, **attrs)
  assert len(got) == len(expected)
  for g, e in zip(got, expected):
    np.testing.assert_array_equal(g.numpy(), e)


def lstm_inputs(rng, batch=3, steps=4, features=5, units=6, dtype=np.float32):
  return dict(
      x=rng.standard_normal((batch, steps, features)).astype(dtype),
      mask=rng.random((batch, steps)) < 0.7,
      kernel=rng.standard_normal((features, 4 * units)).astype(dtype) * 0.3,
      recurrent_kernel=rng.standard_normal((units, 4 * units)).astype(dtype) * 0.3,
      bias=rng.standard_normal((4 * units,)).astype(dtype),
      initial_h=rng.standard_normal((batch, units)).astype(dtype),
      initial_c=rng.standard_normal((batch, units)).astype(dtype))


@pytest.mark.parametrize("change, message", [
    (dict(x=np.zeros((3, 4), np.float32)), r"MaskedLSTM.*x must have rank 3.*\[3,4\]"),
    (dict(mask=np.ones((3, 5), bool)), r"MaskedLSTM.*mask must have shape \[batch, time\] = "
     r"\[3, 4\].*\[3,5\]"),
    (dict(kernel=np.zeros((4, 24), np.float32)), r"MaskedLSTM.*kernel must have shape"
     r" \[features, 4\*units\] = \[5, 24\].*got \[4,24\]"),
    (dict(recurrent_kernel=np.zeros((6, 20), np.float32)),
     r"MaskedLSTM.*recurrent_kernel must have shape \[units, 4\*units\].*\[6,20\]"),
    (dict(bias=np.zeros((2, 24), np.float32)), r"MaskedLSTM.*bias must have shape \[24\]"),
    (dict(initial_c=np.zeros((2, 6), np.float32)),
     r"MaskedLSTM.*initial_c must have shape \[batch, units\] = \[3, 6\].*\[2,6\]"),
])
def test_kernel_rejects_bad_shapes_with_clear_errors(rng, change, message):
  inputs = lstm_inputs(rng)
  inputs.update(change)
  # Inside tf.function with unknown shapes so that the kernel, not the shape
  # function, sees the bad input.
  specs = {k: tf.TensorSpec(None, tf.as_dtype(v.dtype)) for k, v in inputs.items()}
  run = tf.function(lambda **kw: load_ops().masked_lstm(**kw), input_signature=None)
  concrete = run.get_concrete_function(**specs)
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    concrete(**inputs)


def trace(op, inputs, **attrs):
  """Builds the op in a graph with the inputs' static shapes: runs the shape function."""
  specs = {k: tf.TensorSpec(v.shape, tf.as_dtype(v.dtype)) for k, v in inputs.items()}
  tf.function(lambda **kw: op(**kw, **attrs)).get_concrete_function(**specs)


def test_shape_function_checks_known_shapes_and_attrs(rng):
  ops = load_ops()
  inputs = lstm_inputs(rng)
  trace(ops.masked_lstm, inputs)  # consistent shapes trace fine
  with pytest.raises(ValueError, match=r"must be 0.*MaskedLSTM"):
    trace(ops.masked_lstm, inputs, use_bias=False)  # bias [24] but use_bias=False
  with pytest.raises(ValueError, match=r"MaskedLSTM"):
    trace(ops.masked_lstm, dict(inputs, mask=np.ones((3, 5), bool)))
  with pytest.raises(ValueError, match=r"MaskedLSTM"):
    trace(ops.masked_lstm, dict(inputs, kernel=np.zeros((5, 20), np.float32)))
  gru = dict(x=inputs["x"], mask=inputs["mask"], kernel=inputs["kernel"][:, :18],
             recurrent_kernel=inputs["recurrent_kernel"][:, :18],
             bias=np.zeros((18,), np.float32), initial_h=inputs["initial_h"])
  trace(ops.masked_gru, gru, reset_after=False)
  with pytest.raises(ValueError, match=r"rank 2.*MaskedGRU"):
    trace(ops.masked_gru, gru, reset_after=True)  # reset_after needs bias [2, 18]
  with pytest.raises(ValueError, match=r"MaskedGRU: unknown activation 'swish'"):
    trace(ops.masked_gru, gru, reset_after=False, activation="swish")


def test_shape_inference_with_unknown_batch_and_time():
  ops = load_ops()
  shapes = {}

  @tf.function(input_signature=[tf.TensorSpec([None, None, 5]), tf.TensorSpec([None, None], tf.bool),
                                tf.TensorSpec([5, 24]), tf.TensorSpec([6, 24]), tf.TensorSpec([24]),
                                tf.TensorSpec([None, 6]), tf.TensorSpec([None, 6])])
  def run(x, mask, kernel, recurrent_kernel, bias, h, c):
    seq, final_h, final_c = ops.masked_lstm(x, mask, kernel, recurrent_kernel, bias, h, c,
                                            return_sequences=True)
    last, _, _ = ops.masked_lstm(x, mask, kernel, recurrent_kernel, bias, h, c)
    shapes.update(seq=seq.shape.as_list(), last=last.shape.as_list(),
                  final_h=final_h.shape.as_list(), final_c=final_c.shape.as_list())
    return seq

  run.get_concrete_function()
  assert shapes == dict(seq=[None, None, 6], last=[None, 6], final_h=[None, 6],
                        final_c=[None, 6])


@pytest.mark.parametrize("batch, steps, features", [(0, 4, 5), (3, 0, 5), (3, 4, 0), (0, 0, 0)])
def test_empty_tensors(rng, batch, steps, features):
  inputs = lstm_inputs(rng, batch=batch, steps=steps, features=features)
  for return_sequences in (False, True):
    out, h, c = load_ops().masked_lstm(**inputs, return_sequences=return_sequences)
    (want_out, (want_h, want_c)) = reference.masked_rnn(
        "lstm", inputs["x"].astype(np.float64), inputs["mask"],
        inputs["kernel"].astype(np.float64), inputs["recurrent_kernel"].astype(np.float64),
        inputs["bias"].astype(np.float64), (inputs["initial_h"], inputs["initial_c"]),
        return_sequences=return_sequences)
    assert out.shape == want_out.shape
    np.testing.assert_allclose(out.numpy(), want_out, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), want_h, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), want_c, atol=1e-5)


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-12), (np.float32, 2e-6),
                                         (np.float16, 2e-2), (tf.bfloat16.as_numpy_dtype, 6e-2)])
def test_every_dtype_against_reference(rng, dtype, atol):
  inputs = lstm_inputs(rng, batch=4, steps=6, dtype=np.float32)
  cast = {k: (v if v.dtype == bool else v.astype(dtype)) for k, v in inputs.items()}
  out, h, c = load_ops().masked_lstm(**cast, return_sequences=True)
  assert out.dtype == tf.as_dtype(dtype)
  as64 = {k: (v if v.dtype == bool else v.astype(np.float64)) for k, v in cast.items()}
  want_out, (want_h, want_c) = reference.masked_rnn(
      "lstm", as64["x"], as64["mask"], as64["kernel"], as64["recurrent_kernel"], as64["bias"],
      (as64["initial_h"], as64["initial_c"]), return_sequences=True)
  np.testing.assert_allclose(out.numpy().astype(np.float64), want_out, atol=atol)
  np.testing.assert_allclose(h.numpy().astype(np.float64), want_h, atol=atol)
  np.testing.assert_allclose(c.numpy().astype(np.float64), want_c, atol=atol)
