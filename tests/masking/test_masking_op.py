"""The Masking op and layers against Keras' own Masking and the NumPy reference.

Comparisons are bit for bit: the same bytes, so -0.0 vs +0.0 and NaN payload
positions count (spec section 7, cases 1-5 and 15).
"""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import _keras, layers, ops, reference

FLOAT_DTYPES = [np.float16, tf.bfloat16.as_numpy_dtype, np.float32, np.float64]


def assert_bits_equal(actual, expected):
  actual = np.asarray(actual)
  expected = np.asarray(expected)
  assert actual.shape == expected.shape, (actual.shape, expected.shape)
  assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
  np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
  np.testing.assert_array_equal(np.signbit(actual), np.signbit(expected))
  finite = ~np.isnan(expected)
  np.testing.assert_array_equal(actual[finite], expected[finite])


def random_masked_input(rng, shape, dtype, mask_value, masked_fraction=0.3):
  """Random data where a fraction of rows equal mask_value in every feature,
  and some rows equal it in all but one feature (must stay unmasked)."""
  x = rng.standard_normal(shape).astype(dtype)
  rows = x.reshape(-1, shape[-1])
  n = rows.shape[0]
  masked = rng.random(n) < masked_fraction
  rows[masked] = mask_value
  almost = (rng.random(n) < 0.1) & ~masked
  if shape[-1] > 1:
    rows[almost, 1:] = mask_value
  return rows.reshape(shape)


def keras_masking(x, mask_value):
  layer = keras.layers.Masking(mask_value, dtype=x.dtype.name if x.dtype != np.float16 else None)
  out = layer(x)
  return np.asarray(out), np.asarray(out._keras_mask)  # pylint: disable=protected-access


@pytest.mark.parametrize("rank", [2, 3, 4, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_value", [0.0, -1.0, 2.5])
def test_layer_matches_keras_bit_for_bit(rng, rank, dtype, mask_value):
  shape = tuple(rng.integers(1, 6, size=rank))
  x = random_masked_input(rng, shape, dtype, mask_value)
  expected_out, expected_mask = keras_masking(x, mask_value)
  layer = layers.Masking(mask_value, dtype=np.dtype(dtype).name)
  out = layer(x)
  assert_bits_equal(out, expected_out)
  np.testing.assert_array_equal(out._keras_mask, expected_mask)  # pylint: disable=protected-access
  assert out._keras_mask.shape == shape[:-1]  # pylint: disable=protected-access
  np.testing.assert_array_equal(layer.compute_mask(x), expected_mask)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("output_mode", ["where", "multiply"])
def test_op_matches_reference_all_dtypes(rng, dtype, output_mode):
  x = random_masked_input(rng, (7, 9, 5), dtype, -1.0)
  out, mask = ops.masking(x, -1.0, output_mode=output_mode)
  ref_out, ref_mask = reference.masking(x, -1.0, output_mode)
  np.testing.assert_array_equal(mask, ref_mask)
  assert_bits_equal(out, ref_out)


def test_any_rule_one_feature_unmasks(rng):
  x = np.zeros((3, 4, 6), np.float32)
  x[1, 2, 5] = 1e-30  # one non-zero feature keeps the step
  _, mask = ops.masking(x, 0.0)
  expected = np.zeros((3, 4), bool)
  expected[1, 2] = True
  np.testing.assert_array_equal(mask, expected)


def test_denormals_compare_as_keras_does_on_this_device():
  """TensorFlow's CPU threads flush denormals to zero; Keras' own not_equal then
  sees -1e-45 == 0. Whatever the device does, the op must agree with Keras."""
  x = np.zeros((2, 3, 2), np.float32)
  x[1, 0, 0] = -1e-45
  x[0, 2, 1] = 1e-40
  _, expected_mask = keras_masking(x, 0.0)
  _, mask = ops.masking(x, 0.0)
  np.testing.assert_array_equal(mask, expected_mask)


@pytest.mark.parametrize("mask_value", [0.0, -1.0, np.inf, -np.inf])
@pytest.mark.parametrize("output_mode", ["where", "multiply"])
def test_signed_zero_and_infinite_mask_values(rng, mask_value, output_mode):
  x = random_masked_input(rng, (4, 6, 3), np.float32, mask_value, masked_fraction=0.5)
  x[0, 0] = -0.0 if mask_value == 0.0 else x[0, 0]  # -0.0 == 0.0: masked
  out, mask = ops.masking(x, mask_value, output_mode=output_mode)
  ref_out, ref_mask = reference.masking(x, mask_value, output_mode)
  np.testing.assert_array_equal(mask, ref_mask)
  assert_bits_equal(out, ref_out)
  if output_mode == "where":
    assert not np.signbit(np.asarray(out)[~np.asarray(mask)]).any()  # +0.0, never NaN


def test_installed_keras_output_formula_bits(rng):
  """-1 masks give -0.0 with multiply, inf masks give NaN: whichever Keras has."""
  for mask_value in (-1.0, np.inf):
    x = random_masked_input(rng, (3, 5, 4), np.float32, mask_value, masked_fraction=0.5)
    expected_out, expected_mask = keras_masking(x, mask_value)
    out = layers.Masking(mask_value)(x)
    assert_bits_equal(out, expected_out)
    np.testing.assert_array_equal(out._keras_mask, expected_mask)  # pylint: disable=protected-access
  expected_mode = "where" if _keras.keras_version() >= (3, 15) else "multiply"
  assert layers.Masking.output_mode == expected_mode


def test_nan_mask_value_masks_nothing_and_nan_features_pass(rng):
  x = rng.standard_normal((3, 4, 2)).astype(np.float32)
  x[0, 1] = np.nan
  x[1, 2, 0] = np.nan
  out, mask = ops.masking(x, np.nan)
  assert np.asarray(mask).all()
  assert_bits_equal(out, x)
  x[2, 3] = 0.0
  out, mask = ops.masking(x, 0.0)
  expected_out, expected_mask = keras_masking(x, 0.0)
  assert_bits_equal(out, expected_out)
  np.testing.assert_array_equal(mask, expected_mask)


def test_float16_input_with_float32_layer_is_autocast(rng):
  """0.1 in float16 is not 0.1 in float32: a float32 layer does not mask it."""
  x = np.full((2, 3, 4), 0.1, np.float16)
  x[1, 1] = 1.0
  expected_out, expected_mask = keras_masking(x, 0.1)
  out = layers.Masking(0.1)(x)
  assert out.dtype == tf.float32
  np.testing.assert_array_equal(out._keras_mask, expected_mask)  # pylint: disable=protected-access
  assert_bits_equal(out, expected_out)
  assert np.asarray(expected_mask).all()
  # A float16 x is not masked by 0.1 either (Keras 3 compares it against
  # float32(0.1)); only float16(0.1) itself, tf_keras' value, masks it.
  _, mask16 = ops.masking(x, 0.1)
  assert np.asarray(mask16).all()
  _, mask16 = ops.masking(x, np.float16(0.1))
  np.testing.assert_array_equal(mask16, [[False, False, False], [False, True, False]])


@pytest.mark.parametrize("shape", [(0, 5, 3), (4, 0, 3), (4, 5, 0), (0, 3), (3, 0)])
def test_empty_tensors(shape):
  x = np.ones(shape, np.float32)
  out, mask = ops.masking(x, 0.0)
  ref_out, ref_mask = reference.masking(x, 0.0)
  assert tuple(mask.shape) == shape[:-1]
  np.testing.assert_array_equal(mask, ref_mask)
  assert_bits_equal(out, ref_out)


def test_large_batch_and_long_sequences(rng):
  x = random_masked_input(rng, (512, 300, 3), np.float32, 0.0)
  out, mask = ops.masking(x, 0.0)
  ref_out, ref_mask = reference.masking(x, 0.0)
  np.testing.assert_array_equal(mask, ref_mask)
  assert_bits_equal(out, ref_out)


def test_unknown_dims_in_graph_mode(rng):
  fn = tf.function(lambda t: ops.masking(t, 0.0),
                   input_signature=[tf.TensorSpec([None, None, 4], tf.float32)])
  concrete = fn.get_concrete_function()
  assert concrete.structured_outputs[1].shape.as_list() == [None, None]
  x = random_masked_input(rng, (3, 7, 4), np.float32, 0.0)
  out, mask = fn(x)
  np.testing.assert_array_equal(mask, reference.masking(x, 0.0)[1])
  assert_bits_equal(out, reference.masking(x, 0.0)[0])


@pytest.mark.parametrize("bad", [np.zeros((3,), np.float32), np.float32(1.0)])
def test_rank_below_two_is_rejected(bad):
  with pytest.raises(ValueError, match="rank >= 2"):
    ops.masking(bad)
  # The op itself rejects it too (e.g. a graph built without the wrapper).
  with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
    ops.load_ops().masking(np.zeros((3,), np.float32))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_inputs_rejected_by_op_but_served_by_layer(dtype):
  x = np.array([[[1, 0], [0, 0]], [[0, 0], [2, 3]]], dtype)
  with pytest.raises(TypeError, match="float16, bfloat16, float32 or float64"):
    ops.masking(x)
  with pytest.raises(TypeError):
    ops.masking(tf.constant(["a", "b"]))
  if dtype is np.bool_:
    return
  # Integer inputs stay integer in Keras: the layer falls back to its formula.
  expected_out, expected_mask = keras_masking(x, 0)
  out = layers.Masking(0)(x)
  np.testing.assert_array_equal(out, expected_out)
  np.testing.assert_array_equal(out._keras_mask, expected_mask)  # pylint: disable=protected-access


def test_vector_mask_value_falls_back_to_keras_formula(rng):
  mask_value = np.array([1.0, 2.0, 3.0], np.float32)
  x = rng.standard_normal((2, 4, 3)).astype(np.float32)
  x[0, 1] = mask_value
  x[1, 2] = [1.0, 2.0, 0.0]
  expected_out, expected_mask = keras_masking(x, mask_value)
  out = layers.Masking(mask_value)(x)
  assert_bits_equal(out, expected_out)
  np.testing.assert_array_equal(out._keras_mask, expected_mask)  # pylint: disable=protected-access


def test_bad_mask_value_and_output_mode():
  with pytest.raises(TypeError, match="mask_value"):
    ops.masking(np.ones((2, 2), np.float32), mask_value="zero")
  with pytest.raises(ValueError, match="output_mode"):
    ops.masking(np.ones((2, 2), np.float32), output_mode="select")
