"""The converters for Keras' bool mask plumbing and ReverseV2
(trt_converter/converters/mask_plumbing_converters.cc), run through TF-TRT's own
segmenter offline (validation-only mode: Validate runs, Convert does not).

One graph where every converter must accept its nodes (they all land in one
engine), one where each must refuse, with the reason it gives."""

import sys
from pathlib import Path

import pytest
import tensorflow as tf

from tftrt_masking import _loader, load_ops
from tftrt_masking.segments import segment_report

needs_converters = pytest.mark.skipif(
    _loader.converters_library_path() is None,
    reason="TF-TRT converter library not built (no TensorRT 8 headers found by configure.py; "
    "see trt_converter/README.md)")

PLUMBING_OPS = ("NotEqual", "Any", "All", "ReverseV2", "Fill", "Cast", "ExpandDims",
                "StridedSlice", "Reshape", "ConcatV2", "SelectV2", "Tile")


def _save(directory, function, *specs):
  module = tf.Module()
  module.f = tf.function(function, input_signature=list(specs))
  tf.saved_model.save(module, str(directory),
                      signatures={"serving_default": module.f.get_concrete_function()})
  return str(directory)


def accepted_graph(x, ids):
  """Every plumbing op on the types Keras uses, in one chain."""
  token_mask = tf.not_equal(ids, 0)                                   # NotEqual int32
  value_mask = tf.reduce_any(tf.not_equal(x, 0.0), axis=-1)           # NotEqual float, Any
  mask = tf.logical_and(token_mask, value_mask)
  everywhere = tf.ones(tf.shape(x)[:2], tf.bool)                      # Fill bool
  mask = tf.logical_and(mask, tf.not_equal(everywhere, mask))         # NotEqual bool
  keep = tf.expand_dims(mask, -1)                                     # ExpandDims bool
  keep = tf.reshape(keep, tf.shape(keep))                             # Reshape bool
  keep = tf.concat([keep[:, :1], keep[:, 1:]], axis=1)                # StridedSlice, ConcatV2
  keep = tf.tile(keep, [1, 1, 2])[:, :, 1:]                           # Tile bool
  y = tf.where(keep, x, tf.zeros_like(x)) * tf.cast(keep, x.dtype)     # SelectV2, Cast
  y = tf.reverse(y, axis=[1])                                         # ReverseV2
  rows = tf.cast(tf.reduce_all(mask, axis=1, keepdims=True), tf.float32)  # All, Cast
  return tf.reduce_sum(y, axis=[1, 2]) + rows[:, 0] + tf.cast(tf.cast(mask, tf.int32), tf.float32)[:, 0]


@needs_converters
def test_plumbing_converters_accept_keras_mask_code(tmp_path):
  load_ops()
  directory = _save(tmp_path / "accepted", accepted_graph,
                    tf.TensorSpec([None, None, 4], tf.float32),
                    tf.TensorSpec([None, None], tf.int32))
  report = segment_report(directory, minimum_segment_size=1)
  assert len(report.engines) == 1, report.summary()
  engine = report.engines[0]
  for op in PLUMBING_OPS:
    assert engine.holds(op), f"{op} not in the engine:\n{report.summary()}"
  left = {node.op for node in report.tensorflow_nodes}
  assert left <= {"Placeholder", "Identity", "NoOp", "Const"}, report.summary()


def refused_graph(x, axis, ids):
  """Each node below must stay in TensorFlow, with our converter's reason."""
  mask = tf.reduce_any(tf.not_equal(x, 0.0), axis=-1)
  return (tf.reduce_any(mask, axis=axis),                         # Any: axes not constant
          tf.reverse(x, axis=tf.reshape(axis, [1])),              # ReverseV2: axis a tensor
          tf.cast(mask, tf.int64),                                # Cast bool -> int64
          tf.not_equal(ids, tf.constant(0, tf.int64)))            # NotEqual on int64


@needs_converters
def test_plumbing_converters_refuse_with_a_reason(tmp_path):
  load_ops()
  directory = _save(tmp_path / "refused", refused_graph,
                    tf.TensorSpec([None, None, 4], tf.float32),
                    tf.TensorSpec([], tf.int32),
                    tf.TensorSpec([None, None], tf.int64))
  report = segment_report(directory, minimum_segment_size=1)
  reasons = {node.op: node.reason for node in report.tensorflow_nodes}
  assert 'input "reduction_indices" for Any must be a constant' in reasons.get("Any", ""), \
      report.summary()
  assert 'input "axis" for ReverseV2 must be a constant' in reasons.get("ReverseV2", ""), \
      report.summary()
  assert "bool, float, half and int32 only" in reasons.get("Cast", ""), report.summary()
  assert "int64" in reasons.get("NotEqual", ""), report.summary()
  # The nodes our converters do accept are not held back by the refused ones.
  assert report.engines_holding("Any") and report.engines_holding("NotEqual"), report.summary()


@needs_converters
def test_plumbing_converters_are_registered():
  from tensorflow.compiler.tf2tensorrt import _pywrap_py_utils  # pylint: disable=import-outside-toplevel

  load_ops()
  registered = set(_pywrap_py_utils.get_registered_op_converters())
  assert set(PLUMBING_OPS) <= registered


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-v"]))
