"""The seed example, end to end: python -m tftrt_masking seed

Masking(0.) -> LSTM(32) on a 32x10x8 random batch whose timesteps 3 and 5 are
all zeros. Checks, in order, and stops at the first that fails:
  1. our Masking layer gives Keras' mask and, through keras.layers.LSTM, Keras'
     own output;
  2. the mask reached the LSTM: the output equals the LSTM run on the 8-step
     sequence with steps 3 and 5 removed.
"""

from __future__ import annotations

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


def run_seed_example(seed: int = 0) -> int:
  from tftrt_masking import layers  # pylint: disable=import-outside-toplevel

  x = seed_input(seed)
  print(f"seed example: Masking(0.) -> LSTM({UNITS}) on {'x'.join(map(str, SEED_SHAPE))}, "
        f"timesteps {MASKED_STEPS} zeroed")
  mask = np.asarray(layers.Masking(0.0).compute_mask(x))
  print(f"  mask of row 0: {mask[0].astype(int).tolist()}")
  try:
    check("mask", bool((mask.sum(axis=0) == np.where(
        np.isin(np.arange(SEED_SHAPE[1]), MASKED_STEPS), 0, SEED_SHAPE[0])).all()),
          f"steps {MASKED_STEPS} masked in all {SEED_SHAPE[0]} rows, every other step kept")
    ours, reference = build_models()
    out = np.asarray(ours(x))
    expected = np.asarray(reference(x))
    check("Keras parity", np.array_equal(out, expected),
          f"LSTM output after our Masking == after keras.layers.Masking "
          f"(max |diff| {np.abs(out - expected).max():.3g})")
    lstm = ours.layers[-1]
    compact = np.asarray(lstm(np.delete(x, MASKED_STEPS, axis=1)))
    diff = np.abs(out - compact).max()
    check("mask reaches the LSTM", diff <= 1e-6,
          f"output == LSTM on the 8 kept steps (max |diff| {diff:.3g}); "
          f"unmasked LSTM differs by {np.abs(np.asarray(lstm(x)) - out).max():.3g}")
  except CheckFailed as failed:
    print(f"seed example: FAILED ({failed})")
    return 1
  print("seed example: all checks passed")
  return 0


def register_cli(subparsers) -> None:
  parser = subparsers.add_parser("seed", help="run and check the seed example",
                                 description=__doc__)
  parser.add_argument("--seed", type=int, default=0, help="random seed of the input")
  parser.set_defaults(func=lambda args: run_seed_example(args.seed))
