"""The model corpus of issue 16 (models.py), each model in each of its formats
(harness.FORMATS): rewritten through the CLI (`python -m tftrt_masking rewrite
IN OUT`; the in-memory format through rewrite_model), the rewritten SavedModel
gives Keras' outputs on post-padded, pre-padded, holed, full, fully masked and
length-1 rows in one batch (RTOL/ATOL in harness.py, NaN exactly where Keras
has NaN), and TF-TRT's segmenter puts the whole rewritten graph into ONE
TRTEngineOp with nothing but the signature's inputs and outputs left in
TensorFlow. The segment test needs the converter library; without it (CI) it
skips with a message."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # pylint: disable=wrong-import-position
import models  # pylint: disable=wrong-import-position
from tftrt_masking import _loader  # pylint: disable=wrong-import-position

needs_converters = pytest.mark.skipif(
    _loader.converters_library_path() is None,
    reason="TF-TRT converter library not built (no TensorRT 8 headers found by configure.py; "
    "see trt_converter/README.md): the segment checks of the corpus did not run")

CASES = [pytest.param(entry, fmt, id=harness.case_id(entry, fmt))
         for entry, fmt in harness.cases()]

# case id -> rewritten SavedModel folder, so the segment test reuses the
# rewrite of the output test (conftest.py keeps both in one shard).
_REWRITTEN = {}


def _rewrite(entry, fmt, tmp_path_factory):
  key = harness.case_id(entry, fmt)
  if key not in _REWRITTEN:
    directory = tmp_path_factory.mktemp(key)
    model = models.build(entry, harness.FLAVOUR[fmt])
    _REWRITTEN[key] = (model, harness.rewrite(model, fmt, directory))
  model, rewritten = _REWRITTEN[key]
  assert rewritten.ok, f"rewrite of {key} failed:\n{rewritten.log}"
  return model, rewritten.directory


def test_corpus_names_its_sources():
  assert len(models.CORPUS) >= 18
  for entry in models.CORPUS:
    assert "Source:" in entry.source, entry.name
  assert sum(entry.tf_keras for entry in models.CORPUS) >= 5
  for cause in range(1, 7):
    assert any(cause in entry.causes for entry in models.CORPUS), f"cause {cause} not covered"


def test_batch_has_every_row_kind():
  entry = models.BY_NAME["masking_guide_masking_layer"]
  x = models.make_batch(entry)["x"]
  padded = (x == 0.0).all(axis=-1)
  assert padded.shape == (models.BATCH, models.TIME)
  rows = dict(zip(models.ROW_KINDS, padded))
  assert rows["post_padded"][-1] and not rows["post_padded"][0]
  assert rows["pre_padded"][0] and not rows["pre_padded"][-1]
  assert not rows["holed"][0] and rows["holed"][1:-1].any() and not rows["holed"][-1]
  assert not rows["full"].any() and rows["fully_masked"].all()


def test_fully_masked_rows_give_nan_where_pooling_divides_by_zero():
  # Keeps the NaN comparison honest: Keras' masked GlobalAveragePooling1D of a
  # fully masked row is 0/0, and it reaches the output of this model.
  entry = models.BY_NAME["attention_after_lstm"]
  (output,) = harness.keras_outputs(models.build(entry), entry, models.make_batch(entry))
  nan_rows = np.isnan(output).any(axis=1)
  assert nan_rows.tolist() == [kind == "fully_masked" for kind in models.ROW_KINDS]


@pytest.mark.parametrize("entry,fmt", CASES)
def test_rewritten_model_gives_keras_outputs(entry, fmt, tmp_path_factory):
  model, directory = _rewrite(entry, fmt, tmp_path_factory)
  batch = models.make_batch(entry)
  # After the rewrite: a call of a stateful model changes its states.
  expected = harness.keras_outputs(model, entry, batch)
  actual = harness.saved_model_outputs(directory, entry, batch, harness.output_names(model))
  problems = harness.output_problems(expected, actual)
  assert not problems, (f"{harness.case_id(entry, fmt)}: the rewritten SavedModel differs from "
                        "Keras:\n  " + "\n  ".join(problems))


@needs_converters
@pytest.mark.parametrize("entry,fmt", CASES)
def test_rewritten_model_is_one_engine(entry, fmt, tmp_path_factory):
  from tftrt_masking.segments import segment_report  # pylint: disable=import-outside-toplevel

  _, directory = _rewrite(entry, fmt, tmp_path_factory)
  problem = harness.one_engine_problem(segment_report(directory))
  assert problem is None, f"{harness.case_id(entry, fmt)}: {problem}"
