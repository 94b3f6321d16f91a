"""Property-based tests of Masking (hypothesis): the op against the NumPy
reference and the layer against Keras, on random shapes, dtypes, masks and mask
values. Derandomized with a bounded number of examples, so CI sees the same
cases every run and each test takes a few seconds.
"""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import keras
from tftrt_masking import layers, ops, reference

BFLOAT16 = tf.bfloat16.as_numpy_dtype
DTYPES = [np.float16, BFLOAT16, np.float32, np.float64]
FLOAT32_MAX = float(np.finfo(np.float32).max)

BOUNDED = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

# Values that sit on the edges: held or not by each dtype, signed zeros, the
# 16-bit maxima, infinities, NaN.
SPECIAL_VALUES = [0.0, -0.0, -1.0, 0.5, 0.1, -999.9, 1e5, 65504.0, 65520.0, 3.4e38, 1e-8,
                  6e-8, 1e-40, np.inf, -np.inf, np.nan]


def python_floats():
  return st.one_of(st.sampled_from(SPECIAL_VALUES),
                   st.floats(-FLOAT32_MAX, FLOAT32_MAX, allow_nan=False))


def mask_values():
  """Python floats (float32 numbers to Keras 3), ints, and NumPy scalars of each dtype."""
  as_numpy = st.tuples(python_floats(), st.sampled_from(DTYPES)).map(
      lambda pair: _numpy_scalar(*pair))
  return st.one_of(python_floats(), st.integers(-70000, 70000), as_numpy)


def _numpy_scalar(value, dtype):
  with np.errstate(over="ignore"):
    return np.asarray(value).astype(dtype)[()]


@st.composite
def masked_inputs(draw):
  """(x, mask_value): x holds rows equal to the mask value in every precision
  Keras might compare it in, rows equal to it but for one feature, and noise."""
  dtype = draw(st.sampled_from(DTYPES))
  mask_value = draw(mask_values())
  rank = draw(st.integers(2, 4))
  shape = tuple(draw(st.lists(st.integers(0, 5), min_size=rank - 1, max_size=rank - 1)))
  shape += (draw(st.integers(0, 9)),)
  seed = draw(st.integers(0, 2**32 - 1))
  rng = np.random.default_rng(seed)
  with np.errstate(over="ignore", invalid="ignore"):
    value = float(mask_value)
    candidates = np.asarray([value, float(np.float32(value)), float(np.float16(value)),
                             float(BFLOAT16(value)), 0.0, -0.0, 1.0, np.nan, np.inf],
                            np.float64).astype(dtype)
    noise = rng.standard_normal(shape).astype(dtype)
  rows = noise.reshape(int(np.prod(shape[:-1])), shape[-1])
  kinds = rng.integers(0, 4, size=rows.shape[0])
  roundings = candidates[:4]  # the mask value in each precision
  for r, kind in enumerate(kinds):
    if kind == 0:  # a whole row of one rounding of the mask value
      rows[r] = roundings[rng.integers(len(roundings))]
    elif kind == 1 and shape[-1] > 1:  # all but one feature
      rows[r, 1:] = roundings[rng.integers(len(roundings))]
    elif kind == 2:  # features drawn from the candidates
      rows[r] = candidates[rng.integers(len(candidates), size=shape[-1])]
  return rows.reshape(shape), mask_value


def assert_same_masking(actual, expected):
  (out, mask), (expected_out, expected_mask) = actual, expected
  np.testing.assert_array_equal(np.asarray(mask), expected_mask)
  out, expected_out = np.asarray(out), np.asarray(expected_out)
  assert out.dtype == expected_out.dtype and out.shape == expected_out.shape
  nan = np.isnan(expected_out)
  np.testing.assert_array_equal(np.isnan(out), nan)
  np.testing.assert_array_equal(np.signbit(out[~nan]), np.signbit(expected_out[~nan]))
  np.testing.assert_array_equal(out[~nan], expected_out[~nan])


def _rows(values, dtype):
  """Two-feature rows, one per value."""
  return np.asarray([[[v, v] for v in values]], np.float64).astype(dtype)


# The cases, always run: values float16 cannot hold, float64 beyond float32.
EXAMPLE_F16_TENTH = (_rows([np.float16(0.1), 0.1, 1.0], np.float16), 0.1)
EXAMPLE_F64_BIG = (_rows([1e300, np.inf, 1.0], np.float64), np.float64(1e300))
EXAMPLE_F32_PADDING = (_rows([np.float16(-999.9), -999.9, 2.0], np.float32), -999.9)


@BOUNDED
@given(masked_inputs(), st.sampled_from(["where", "multiply"]))
@example(EXAMPLE_F16_TENTH, "where")
@example(EXAMPLE_F64_BIG, "multiply")
def test_op_matches_reference(case, output_mode):
  x, mask_value = case
  expected = reference.masking(x, mask_value, output_mode)
  assert_same_masking(ops.masking(x, mask_value, output_mode=output_mode), expected)


@BOUNDED
@given(masked_inputs())
def test_tf_keras_rule_masks_the_value_rounded_to_x_dtype(case):
  """The tf_keras layer passes x.dtype(mask_value): exactly those rows."""
  x, mask_value = case
  with np.errstate(over="ignore"):
    in_x_dtype = np.asarray(mask_value).astype(x.dtype)[()]
  _, mask = ops.masking(x, in_x_dtype)
  rows = x.reshape(int(np.prod(x.shape[:-1])), x.shape[-1]).astype(np.float64)
  expected = np.any(rows != np.float64(in_x_dtype), axis=-1).reshape(x.shape[:-1])
  np.testing.assert_array_equal(np.asarray(mask), expected)


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(masked_inputs(), st.sampled_from(
    ["float16", "bfloat16", "mixed_float16", "mixed_bfloat16", "float32", "float64"]))
@example(EXAMPLE_F16_TENTH, "float16")
@example(EXAMPLE_F32_PADDING, "mixed_float16")
@example(EXAMPLE_F32_PADDING, "mixed_bfloat16")
@example(EXAMPLE_F64_BIG, "float64")
def test_layer_matches_keras(case, policy):
  """The mask Keras 3 attaches and its output, under every dtype policy."""
  x, mask_value = case
  if x.shape[-1] == 0 or np.prod(x.shape) == 0:
    return  # covered by the op test; Keras' any() over nothing is the same rule
  theirs = keras.layers.Masking(mask_value, dtype=policy)(x)
  ours = layers.Masking(mask_value, dtype=policy)(x)
  expected = (theirs, np.asarray(theirs._keras_mask))  # pylint: disable=protected-access
  assert_same_masking((ours, ours._keras_mask), expected)  # pylint: disable=protected-access


def test_python_float_beyond_float32_is_refused_like_keras():
  x = np.ones((2, 3), np.float64)
  with pytest.raises(ValueError, match="beyond float32's range"):
    ops.masking(x, 1e300)
  with pytest.raises(ValueError):
    keras.layers.Masking(1e300, dtype="float64")(x)
