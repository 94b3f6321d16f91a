#!/usr/bin/env python3
"""CPU benchmark (not a test): `fit` steps per second, our layers vs Keras' own.

Model: Input -> Masking(0.0) -> LSTM / GRU / SimpleRNN(U) -> Dense(1), mse,
SGD, no dropout, jit_compile=False for both (the ops have no XLA kernel).
Ours trains through the ops and their gradient ops; Keras' own runs its masked
while loop forward and backward (cuDNN is GPU-only). Same weights, same data
(right padding of random lengths >= T/2 plus a hole in every 4th row). Each
timing is one `fit` epoch of --steps batches after a warm-up epoch (tracing);
the best of --repeats is reported. bench/cpu/RESULTS.md records the numbers.

  bazel build //tf_ops:_tftrt_masking_ops.so
  .venv/bin/python bench/cpu/benchmark_fit.py [--steps 10] [--repeats 3] [--cells LSTM GRU]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import keras  # noqa: E402
from benchmark_cpu import masked_input  # noqa: E402
from tftrt_masking import layers  # noqa: E402

# (batch, time, features, units)
CASES = [(32, 100, 32, 64), (64, 100, 64, 128)]


def model_of(masking, rnn, steps, features, units):
  inputs = keras.Input((steps, features))
  outputs = keras.layers.Dense(1)(rnn(units)(masking(0.0)(inputs)))
  model = keras.Model(inputs, outputs)
  model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=False)
  return model


def steps_per_second(model, x, y, batch, repeats):
  model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)  # trace
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    best = min(best, time.perf_counter() - start)
  return len(x) // batch / best


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=10)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--cells", nargs="+", default=["LSTM", "GRU"])
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  print("| cell | B, T, F, U | Keras steps/s | ours steps/s | speed-up | weights after "
        "one epoch, max abs diff |")
  print("| --- | --- | --- | --- | --- | --- |")
  for cell in args.cells:
    for batch, steps, features, units in CASES:
      x, _ = masked_input(rng, batch * args.steps, steps, features)
      y = rng.standard_normal((len(x), 1)).astype(np.float32)
      theirs = model_of(keras.layers.Masking, getattr(keras.layers, cell), steps, features,
                        units)
      ours = model_of(layers.Masking, getattr(layers, cell), steps, features, units)
      ours.set_weights(theirs.get_weights())
      keras_rate = steps_per_second(theirs, x, y, batch, args.repeats)
      our_rate = steps_per_second(ours, x, y, batch, args.repeats)
      diff = max(float(np.abs(a - b).max())
                 for a, b in zip(ours.get_weights(), theirs.get_weights()))
      print(f"| {cell} | {batch}, {steps}, {features}, {units} | {keras_rate:.2f} | "
            f"{our_rate:.2f} | {our_rate / keras_rate:.1f}x | {diff:.1e} |", flush=True)


if __name__ == "__main__":
  main()
