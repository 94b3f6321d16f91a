"""The seed example, end to end: python -m tftrt_masking seed

A Keras model Masking(0.) -> LSTM(32) on a 32x10x8 random batch whose
timesteps 3 and 5 are all zeros. Checks, in order, and stops at the first
that fails:
  1. the mask: steps 3 and 5 masked in every row, nothing else;
  2. our Masking layer in front of keras.layers.LSTM gives Keras' own output;
  3. the rewrite swaps Masking and LSTM for ours (same weights): same output as
     the Keras model, and as the LSTM on the 8-step sequence with the masked
     steps removed;
  4. the rewritten model as a SavedModel: TF-TRT's segmenter (offline, no GPU)
     puts Masking and MaskedLSTM into ONE TensorRT engine (needs the converter
     library, i.e. TensorRT headers at build time; else said and skipped);
  5. the TF-TRT conversion itself where TensorRT is installed (else said in one
     line) and the converted model's output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

SEED_SHAPE = (32, 10, 8)
MASKED_STEPS = (3, 5)
UNITS = 32


def seed_input(seed: int = 0) -> np.ndarray:
  x = np.random.default_rng(seed).random(SEED_SHAPE).astype(np.float32)
  x[:, list(MASKED_STEPS), :] = 0.0
  return x


class CheckFailed(RuntimeError):
  pass


def check(name: str, ok: bool, detail: str) -> None:
  print(f"  [{'ok' if ok else 'FAILED'}] {name}: {detail}")
  if not ok:
    raise CheckFailed(name)


def build_models(units: int = UNITS):
  """(ours, keras_reference): the same LSTM weights behind each Masking layer."""
  import keras  # pylint: disable=import-outside-toplevel

  from tftrt_masking import layers  # pylint: disable=import-outside-toplevel

  inputs = keras.Input(SEED_SHAPE[1:])
  lstm = keras.layers.LSTM(units)
  ours = keras.Model(inputs, lstm(layers.Masking(0.0)(inputs)), name="seed_ours")
  reference = keras.Model(inputs, lstm(keras.layers.Masking(0.0)(inputs)), name="seed_keras")
  return ours, reference


def check_rewrite(x, keras_model):
  """Check 3: returns the rewritten model."""
  from tftrt_masking import rewrite  # pylint: disable=import-outside-toplevel

  ours, report = rewrite.rewrite_model(keras_model)
  print("  " + report.summary().replace("\n", "\n  "))
  check("rewrite", sorted(e.new_class for e in report.replaced) == ["LSTM", "Masking"],
        "Masking and LSTM replaced by tftrt_masking layers")
  out = np.asarray(ours(x))
  expected = np.asarray(keras_model(x))
  diff = np.abs(out - expected).max()
  check("rewritten == Keras", diff <= 1e-6,
        f"max |diff| {diff:.3g}{' (bit-equal)' if diff == 0 else ''}")
  compact = np.asarray(keras_model.layers[-1](np.delete(x, MASKED_STEPS, axis=1)))
  diff = np.abs(out - compact).max()
  check("rewritten == LSTM on the kept steps", diff <= 1e-6,
        f"max |diff| {diff:.3g}{' (bit-equal)' if diff == 0 else ''}")
  return ours


def check_tensorrt(x, ours, expected, work_dir: Path) -> None:
  """Checks 4 and 5 on the rewritten model exported as a SavedModel."""
  from tftrt_masking import _loader, conversion, segments  # pylint: disable=import-outside-toplevel

  saved_model = work_dir / "seed_saved_model"
  ours.export(str(saved_model), verbose=False)
  print(f"  exported the rewritten model to {saved_model}")
  no_tf_trt = segments.tf_trt_missing_reason()
  if no_tf_trt:
    print(f"  [skipped] TensorRT engine segment and TF-TRT conversion: {no_tf_trt}")
    return
  if _loader.converters_library_path() is None:
    print("  [skipped] TensorRT engine segment: the TF-TRT converter library was not built "
          "(configure.py found no TensorRT 8 headers; see trt_converter/README.md)")
  else:
    report = segments.segment_report(saved_model)
    print("  " + report.summary().replace("\n", "\n  "))
    holding = [e.name for e in report.engines
               if e.holds("Masking") and e.holds("MaskedLSTM")]
    check("one TensorRT engine", len(report.engines) == 1 and len(holding) == 1,
          f"{len(report.engines)} engine(s); Masking + MaskedLSTM together in {holding}")
  available, reason = conversion.tensorrt_available()
  if not available:
    print(f"  [skipped] TF-TRT conversion: {reason}")
    return
  # The example's own output (a --work-dir may hold the previous run's): replaced.
  result = conversion.convert_saved_model(
      saved_model, work_dir / "seed_tensorrt", input_fn=lambda: [(tf_constant(x),)],
      overwrite=True)
  print("  " + result.summary().replace("\n", "\n  "))
  check("TensorRT engine built", len(result.builds) == 1 and len(result.built) == 1,
        f"{len(result.built)} of {len(result.builds)} engine(s) built")
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  converted = tf.saved_model.load(result.output_dir)
  out = next(iter(converted.signatures["serving_default"](tf_constant(x)).values()))
  diff = np.abs(np.asarray(out) - expected).max()
  check("TensorRT output", diff <= 1e-4, f"converted model vs Keras: max |diff| {diff:.3g}")


def tf_constant(x):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tf.constant(x)


def keras_seed_model(units: int = UNITS):
  """The user's model, with Keras' own layers."""
  import keras  # pylint: disable=import-outside-toplevel

  return keras.Sequential([keras.Input(SEED_SHAPE[1:]), keras.layers.Masking(0.0),
                           keras.layers.LSTM(units)], name="seed")


def run_seed_example(seed: int = 0, work_dir=None) -> int:
  from tftrt_masking import layers  # pylint: disable=import-outside-toplevel

  x = seed_input(seed)
  print(f"seed example: Masking(0.) -> LSTM({UNITS}) on {'x'.join(map(str, SEED_SHAPE))}, "
        f"timesteps {MASKED_STEPS} zeroed")
  mask = np.asarray(layers.Masking(0.0).compute_mask(x))
  print(f"  mask of row 0: {mask[0].astype(int).tolist()}")
  try:
    expected_mask = ~np.isin(np.arange(SEED_SHAPE[1]), MASKED_STEPS)
    check("mask", bool((mask == expected_mask).all()),
          f"steps {MASKED_STEPS} masked in all {SEED_SHAPE[0]} rows, every other step kept")
    ours, reference = build_models()
    out = np.asarray(ours(x))
    expected = np.asarray(reference(x))
    check("Keras parity", np.array_equal(out, expected),
          f"LSTM output after our Masking == after keras.layers.Masking "
          f"(max |diff| {np.abs(out - expected).max():.3g})")
    keras_model = keras_seed_model()
    rewritten = check_rewrite(x, keras_model)
    with tempfile.TemporaryDirectory(prefix="tftrt_masking_seed_") as tmp:
      check_tensorrt(x, rewritten, np.asarray(keras_model(x)), Path(work_dir or tmp))
  except CheckFailed as failed:
    print(f"seed example: FAILED ({failed})")
    return 1
  print("seed example: all checks passed")
  return 0


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser("seed", help="run and check the seed example",
                                 description=__doc__)
  parser.add_argument("--seed", type=int, default=0, help="random seed of the input")
  parser.add_argument("--work-dir", default=None,
                      help="keep the SavedModels here (default: a temporary folder)")
  parser.set_defaults(func=lambda args: run_seed_example(args.seed, args.work_dir))
