"""segment_report: TF-TRT's own segmenter, run offline (no GPU, no TensorRT),
puts Masking + the masked recurrence + Dense into ONE engine once the model
uses this project's ops, and leaves Keras' own loop in TensorFlow."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import models  # pylint: disable=wrong-import-position
from tftrt_masking import _loader
from tftrt_masking.segments import segment_report, tf_trt_missing_reason

needs_converters = pytest.mark.skipif(
    _loader.converters_library_path() is None,
    reason="TF-TRT converter library not built (no TensorRT 8 headers found by configure.py; "
    "see trt_converter/README.md)")
needs_tf_trt = pytest.mark.skipif(tf_trt_missing_reason() is not None,
                                  reason=str(tf_trt_missing_reason()))

DENSE_OPS = ("MatMul",)


def _single_engine(report, *op_types):
  engines = [e for e in report.engines if any(e.holds(op) for op in op_types)]
  assert len(engines) == 1, report.summary()
  for op in op_types:
    assert engines[0].holds(op), f"{op} not in the engine:\n{report.summary()}"
  return engines[0]


@needs_converters
@pytest.mark.parametrize("cell,op", [("lstm", "MaskedLSTM"), ("gru", "MaskedGRU"),
                                     ("simple_rnn", "MaskedSimpleRNN")])
def test_rewritten_seed_model_is_one_engine(tmp_path, cell, op):
  directory = models.export_keras(models.rewritten_model(cell), tmp_path / "model")
  report = segment_report(directory)
  assert len(report.engines) == 1, report.summary()
  _single_engine(report, "Masking", op, *DENSE_OPS)
  # Nothing of ours is left behind, and what is left says why.
  for our_op in ("Masking", op):
    assert not report.tensorflow_nodes_of(our_op), report.summary()
  assert all(node.reason for node in report.tensorflow_nodes)


@needs_converters
def test_rewritten_bidirectional_model_is_one_engine(tmp_path):
  directory = models.export_keras(models.rewritten_model("lstm", bidirectional=True),
                                  tmp_path / "model")
  report = segment_report(directory)
  engine = _single_engine(report, "Masking", "MaskedLSTM", *DENSE_OPS)
  assert engine.op_types.count("MaskedLSTM") == 2, report.summary()
  assert len(report.engines) == 1, report.summary()


@needs_tf_trt
def test_keras_layers_leave_the_loop_in_tensorflow(tmp_path):
  directory = models.export_keras(models.keras_model("lstm"), tmp_path / "model")
  report = segment_report(directory)
  # Grappler lowers Keras' While loop to frame ops (Enter/Merge/Switch/Exit/...):
  # TF-TRT converts none of them, so the recurrence is cut into pieces.
  loop_ops = {"While", "StatelessWhile", "Enter", "Exit", "Merge", "Switch", "NextIteration",
              "LoopCond"}
  loops = [n for n in report.tensorflow_nodes if n.op in loop_ops]
  assert {"Enter", "Exit"} <= {n.op for n in loops} or {"While", "StatelessWhile"} & {
      n.op for n in loops}, report.summary()
  for loop in loops:
    assert f"Op type {loop.op} is not supported" in loop.reason, report.summary()
  assert not report.engines_holding("MaskedLSTM")
  # Keras' Masking is NotEqual + Any: with our converter library loaded, its plumbing
  # converters take both and only the loop keeps the model from being one engine;
  # without it TF-TRT alone has no converter for either.
  for op in ("Any", "NotEqual"):
    left = report.tensorflow_nodes_of(op)
    if _loader.converters_library_path() is not None:
      assert not left, report.summary()
    else:
      assert left and all(f"Op type {op} is not supported" in n.reason for n in left), (
          report.summary())


@needs_converters
def test_ops_model_is_one_engine(tmp_path):
  report = segment_report(models.export_ops_lstm(tmp_path / "model"))
  assert len(report.engines) == 1, report.summary()
  _single_engine(report, "Masking", "MaskedLSTM", *DENSE_OPS)


@needs_converters
def test_double_precision_stays_in_tensorflow_with_the_reason(tmp_path):
  report = segment_report(models.export_ops_lstm(tmp_path / "model", dtype="float64"))
  # TF-TRT refuses float64 tensors before any converter runs.
  for op in ("Masking", "MaskedLSTM"):
    (node,) = report.tensorflow_nodes_of(op)
    assert "data type double" in node.reason, report.summary()
  assert not report.engines_holding("MaskedLSTM")


@needs_converters
def test_non_constant_weights_stay_in_tensorflow_with_the_reason(tmp_path):
  report = segment_report(models.export_ops_lstm(tmp_path / "model", constant_weights=False))
  (lstm,) = report.tensorflow_nodes_of("MaskedLSTM")
  assert 'The input "kernel" for MaskedLSTM must be a constant' in lstm.reason, report.summary()
  assert not report.engines_holding("MaskedLSTM")


@needs_converters
def test_summary_and_cli(tmp_path, capsys):
  from tftrt_masking.__main__ import main  # pylint: disable=import-outside-toplevel

  directory = models.export_ops_lstm(tmp_path / "model")
  assert main(["segments", directory]) == 0
  out = capsys.readouterr().out
  assert "1 TensorRT engine(s):" in out and "MaskedLSTM" in out
  assert main(["segments", str(tmp_path / "missing")]) == 2
  assert "does not exist" in capsys.readouterr().err


def test_nodes_left_in_tensorflow_name_their_layer_and_say_why():
  from tftrt_masking.segments import TensorFlowNode  # pylint: disable=import-outside-toplevel

  ids = TensorFlowNode("StatefulPartitionedCall/functional_1/embedding_1/Cast", "Cast",
                       "Failed to convert at least one input to a TRT_TensorOrWeights: "
                       "Unsupported tensorflow data type int64")
  assert ids.keras_layer == "functional_1/embedding_1"
  assert "no int64" in ids.explanation and "dtype='int32'" in ids.explanation
  loop = TensorFlowNode("functional_1/lstm_1/while", "While", "Op type While is not supported")
  assert loop.keras_layer == "functional_1/lstm_1" and "no loop" in loop.explanation
  output = TensorFlowNode("Identity", "Identity", "excluded by segmenter option.")
  assert output.keras_layer == "" and output.explanation == ""


@pytest.mark.skipif(tf_trt_missing_reason() is None, reason="this TensorFlow has TF-TRT")
def test_without_tf_trt_the_cli_says_so_in_one_line(tmp_path, capsys):
  from tftrt_masking.__main__ import main  # pylint: disable=import-outside-toplevel

  directory = models.export_ops_lstm(tmp_path / "model")
  assert main(["segments", directory]) == 1
  captured = capsys.readouterr()
  assert captured.out == ""
  assert captured.err.splitlines() == [f"segments: no segment report: {tf_trt_missing_reason()}"]
