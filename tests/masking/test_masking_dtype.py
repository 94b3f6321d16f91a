"""Masking under every dtype policy: the mask Keras propagates and the output.

What counts is the mask Keras' Masking ATTACHES to its output in call() (the
one downstream layers receive): the input autocast to the compute dtype,
compared against the mask value as Keras 3's ops.not_equal compares (a Python
float is a float32 number; tf_keras converts it to x's dtype). Checked against
Keras 3 and tf_keras themselves, bit for bit, for representable and
non-representable mask values (spec section 1, dtype line).
"""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tftrt_masking import layers, load_ops, ops, reference

BFLOAT16 = tf.bfloat16.as_numpy_dtype
POLICIES = ["float16", "bfloat16", "mixed_float16", "mixed_bfloat16", "float32", "float64"]
INPUT_DTYPES = [np.float16, BFLOAT16, np.float32, np.float64]
# Held by float16 (0, -1, 0.5, 65504, inf), by none of the 16-bit types (0.1,
# -999.9, 1e5), NaN, and integers (rounded to x's dtype by Keras 3 too).
MASK_VALUES = [0.0, -1.0, 0.5, 0.1, -999.9, 1e5, 65504.0, np.inf, np.nan, 0, -1, 70000]


def assert_bits_equal(actual, expected):
  actual, expected = np.asarray(actual), np.asarray(expected)
  assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
      actual.shape, actual.dtype, expected.shape, expected.dtype)
  np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
  # Signs of zeros count; a NaN's sign does not (TF's bfloat16 multiply gives
  # +NaN for inf * 0 where float arithmetic gives -NaN).
  numbers = ~np.isnan(expected)
  np.testing.assert_array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))
  np.testing.assert_array_equal(actual[numbers], expected[numbers])


def candidate_rows(mask_value, dtype):
  """Rows of the mask value in each precision it might be compared in, and others."""
  with np.errstate(over="ignore", invalid="ignore"):
    values = [float(mask_value), float(np.float32(mask_value)),
              float(np.float16(mask_value)), float(BFLOAT16(mask_value)), 0.0, 1.0, -0.0]
    rows = [[v, v, v] for v in values] + [[float(mask_value), 1.0, float(mask_value)]]
    return np.asarray([rows, rows[::-1]], np.float64).astype(dtype)


def attached_mask(outputs):
  return np.asarray(outputs._keras_mask)  # pylint: disable=protected-access


class MaskSeen(keras.layers.Layer):
  """Returns the mask it receives: what a downstream layer sees."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.supports_masking = True

  def call(self, inputs, mask=None):
    return tf.cast(mask, tf.float32)

  def compute_mask(self, inputs, mask=None):
    return None


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("input_dtype", INPUT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_keras3_mask_and_output_every_policy(policy, input_dtype):
  for mask_value in MASK_VALUES:
    x = candidate_rows(mask_value, input_dtype)
    theirs = keras.layers.Masking(mask_value, dtype=policy)(x)
    ours = layers.Masking(mask_value, dtype=policy)(x)
    np.testing.assert_array_equal(attached_mask(ours), attached_mask(theirs),
                                  err_msg=f"mask_value={mask_value!r}")
    assert_bits_equal(ours, theirs)


@pytest.mark.parametrize("policy", POLICIES)
def test_keras3_downstream_layer_receives_the_same_mask(policy):
  """The mask a functional model hands the next layer (float32 Input, autocast)."""
  for mask_value in (0.1, -999.9, 1e5, 65504.0, -1.0):
    x = candidate_rows(mask_value, np.float32)
    seen = []
    for masking in (keras.layers.Masking, layers.Masking):
      inputs = keras.Input(x.shape[1:])
      model = keras.Model(inputs, MaskSeen()(masking(mask_value, dtype=policy)(inputs)))
      seen.append(np.asarray(model(x)))
    np.testing.assert_array_equal(seen[1], seen[0], err_msg=f"mask_value={mask_value!r}")


@pytest.mark.parametrize("policy", ["float16", "mixed_float16", "bfloat16", "mixed_bfloat16"])
@pytest.mark.parametrize("mask_value", [0.1, -999.9, 1e5])
def test_sixteen_bit_policy_masks_nothing_for_a_value_it_cannot_hold(policy, mask_value):
  """Keras compares float16(0.1) = 0.09998 against float32(0.1): never equal."""
  x = candidate_rows(mask_value, np.float32)
  outputs = layers.Masking(mask_value, dtype=policy)(x)
  assert attached_mask(outputs).all()
  assert attached_mask(keras.layers.Masking(mask_value, dtype=policy)(x)).all()


def test_float64_keeps_a_float64_mask_value():
  """np.float64(1e300) (float32 cannot hold it): Keras 3 masks the 1e300 rows, not
  the inf rows; a Python float 1e300 is refused, by Keras and by us."""
  x = np.asarray([[[1e300, 1e300], [np.inf, np.inf], [0.1, 0.1],
                   [np.float32(0.1), np.float32(0.1)]]], np.float64)
  for mask_value in (np.float64(1e300), np.float64(0.1), 0.1, np.float32(0.1), 1e-300):
    theirs = keras.layers.Masking(mask_value, dtype="float64")(x)
    ours = layers.Masking(mask_value, dtype="float64")(x)
    np.testing.assert_array_equal(attached_mask(ours), attached_mask(theirs),
                                  err_msg=f"mask_value={mask_value!r}")
    assert_bits_equal(ours, theirs)
  np.testing.assert_array_equal(
      attached_mask(layers.Masking(np.float64(1e300), dtype="float64")(x)),
      [[False, True, True, True]])
  with pytest.raises(ValueError):
    keras.layers.Masking(1e300, dtype="float64")(x)
  with pytest.raises(ValueError, match="beyond float32's range"):
    layers.Masking(1e300, dtype="float64")(x)


def test_mixed_float16_masking_lstm_rewritten_equals_original(rng):
  """The issue's model: Masking(-999.9) -> LSTM under mixed_float16. Keras masks
  nothing (float16 holds no -999.9); the rewritten model must not either.
  (The output differs only by float16 rounding of the recurrence.)"""
  from tftrt_masking import rewrite  # pylint: disable=import-outside-toplevel
  previous = keras.config.dtype_policy()
  keras.config.set_dtype_policy("mixed_float16")
  try:
    inputs = keras.Input((9, 4))
    outputs = keras.layers.LSTM(8)(keras.layers.Masking(-999.9)(inputs))
    model = keras.Model(inputs, outputs)
    rewritten, _ = rewrite.rewrite_model(model)
  finally:
    keras.config.set_dtype_policy(previous)
  x = rng.standard_normal((16, 9, 4)).astype(np.float32)
  x[:, 6:] = -999.9  # right padding
  x[3, 2:] = -999.9
  expected = np.asarray(model(x), np.float32)
  got = np.asarray(rewritten(x), np.float32)
  assert any(isinstance(l, layers.Masking) for l in rewritten.layers)
  # float16 recurrences: our op and Keras' loop round differently (2.4e-4 seen);
  # a wrong mask moves the output by 0.26-0.47.
  np.testing.assert_allclose(got, expected, rtol=0, atol=2e-3)


def test_ops_wrapper_compares_as_keras3():
  """ops.masking: a Python float is its float32 rounding, integers are rounded to
  x's dtype, a NumPy float scalar is taken at its own value."""
  x16 = np.asarray([[[0.1, 0.1], [1.0, 1.0], [-1000.0, -1000.0]]], np.float16)
  assert np.asarray(ops.masking(x16, 0.1)[1]).all()
  assert np.asarray(ops.masking(x16, -999.9)[1]).all()
  np.testing.assert_array_equal(ops.masking(x16, np.float16(0.1))[1], [[False, True, True]])
  np.testing.assert_array_equal(ops.masking(x16, -1000)[1], [[True, True, False]])
  # An eager tensor keeps its dtype, as in Keras.
  np.testing.assert_array_equal(ops.masking(x16, tf.constant(0.1, tf.float16))[1],
                                [[False, True, True]])
  assert np.asarray(ops.masking(x16, tf.constant(0.1))[1]).all()
  assert ops.keras_mask_value(0.1, tf.float64) == float(np.float32(0.1))
  assert ops.keras_mask_value(np.float64(0.1), tf.float16) == 0.1
  assert ops.keras_mask_value(70000, tf.float16) == np.inf
  assert ops.keras_mask_value(70000, tf.bfloat16) == float(BFLOAT16(70000))
  for bad in (True, "0", [1.0, 2.0]):
    with pytest.raises(TypeError, match="mask_value"):
      ops.masking(x16, bad)


def test_graphs_with_only_the_old_attr_keep_their_answer():
  """A Masking node written before exact_mask_value (mask_value only) still
  rounds the value to x's dtype and compares there, as it did."""
  lib = load_ops()
  x16 = np.asarray([[[0.1, 0.1], [1.0, 1.0]]], np.float16)
  np.testing.assert_array_equal(lib.masking(x16, mask_value=0.1)[1], [[False, True]])
  x64 = np.asarray([[[0.1, 0.1], [np.float32(0.1)] * 2]], np.float64)
  np.testing.assert_array_equal(lib.masking(x64, mask_value=0.1)[1], [[True, False]])
  np.testing.assert_array_equal(lib.masking(x64, mask_value=0.1, exact_mask_value="0.1")[1],
                                [[False, True]])


@pytest.mark.parametrize("text", ["0.1abc", "zero", "1e400", "0x1p-3"])
def test_bad_exact_mask_value_is_a_clear_error(text):
  with pytest.raises(tf.errors.InvalidArgumentError, match="exact_mask_value must be a float64"):
    load_ops().masking(np.ones((2, 2), np.float32), exact_mask_value=text)


def test_old_graph_def_loads_and_keeps_its_answer(tmp_path):
  """A SavedModel whose Masking node has today's attrs only (no exact_mask_value)."""
  lib = load_ops()

  class Old(tf.Module):

    @tf.function(input_signature=[tf.TensorSpec([None, None, 2], tf.float16)])
    def serve(self, x):
      return lib.masking(x, mask_value=-1.0)[1]

  module = Old()
  path = str(tmp_path / "old")
  tf.saved_model.save(module, path)
  loaded = tf.saved_model.load(path)
  x = np.asarray([[[-1.0, -1.0], [0.5, -1.0]]], np.float16)
  np.testing.assert_array_equal(loaded.serve(x), [[False, True]])


# ---------------------------------------------------------------- tf_keras


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("input_dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_tf_keras_mask_and_output_every_policy(tf_keras, policy, input_dtype):
  """tf_keras converts the mask value to x's dtype: float16 0.1 rows ARE masked
  there, and a float64 layer keeps 1e300."""
  ours_class = layers.tf_keras_masking_class()
  for mask_value in MASK_VALUES + [1e300]:
    x = candidate_rows(mask_value, input_dtype)
    theirs = tf_keras.layers.Masking(mask_value, dtype=policy)(x)
    ours = ours_class(mask_value, dtype=policy)(x)
    np.testing.assert_array_equal(attached_mask(ours), attached_mask(theirs),
                                  err_msg=f"mask_value={mask_value!r}")
    assert_bits_equal(ours, theirs)


def test_reference_follows_the_same_rule():
  x = candidate_rows(0.1, np.float16)
  assert reference.masking(x, 0.1)[1].all()
  assert not reference.masking(x, np.float16(0.1))[1].all()
  x = candidate_rows(1e300, np.float64)
  np.testing.assert_array_equal(reference.masking(x, np.float64(1e300))[1],
                                np.asarray(ops.masking(x, np.float64(1e300))[1]))
