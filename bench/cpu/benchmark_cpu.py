#!/usr/bin/env python3
"""CPU benchmark (not a test): the MaskedLSTM/MaskedGRU ops vs Keras' own layers.

Keras 3 on TensorFlow's CPU with a mask runs its masked while loop (cuDNN is
GPU-only), one cell step of TF ops per timestep. Ours is one op. Both run inside
tf.function, on the same inputs and weights (copied from the Keras layer), and
the outputs are checked to be bit-equal before timing. Prints a Markdown table;
bench/cpu/RESULTS.md records the numbers.

  bazel build //tf_ops:_tftrt_masking_ops.so
  .venv/bin/python bench/cpu/benchmark_cpu.py [--repeats 20] [--cells lstm gru]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
from tftrt_masking._loader import load_ops  # noqa: E402

# (batch, time, features, units): the case and a large one.
CASES = [(32, 100, 32, 64), (128, 200, 64, 128)]


def masked_input(rng, batch, steps, features):
  """Random x with right padding of random lengths and a few holes: mask from x != 0."""
  x = rng.standard_normal((batch, steps, features)).astype(np.float32)
  lengths = rng.integers(steps // 2, steps + 1, size=batch)
  for b, length in enumerate(lengths):
    x[b, length:] = 0
  x[::4, steps // 3] = 0  # holes
  return x, np.any(x != 0, axis=-1)


def timed(fn, repeats):
  """Median and min wall time (ms) of fn() after warm-up."""
  for _ in range(3):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append((time.perf_counter() - start) * 1e3)
  return statistics.median(times), min(times)


def bench_case(cell, batch, steps, features, units, repeats, rng):
  x, mask = masked_input(rng, batch, steps, features)
  layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell](units)
  x_t, mask_t = tf.constant(x), tf.constant(mask)
  keras_fn = tf.function(lambda v, m: layer(v, mask=m))
  keras_out = keras_fn(x_t, mask_t).numpy()
  weights = [tf.constant(w.numpy()) for w in layer.weights]
  zeros = tf.zeros((batch, units))
  ops = load_ops()
  if cell == "lstm":
    ours_fn = tf.function(lambda v, m: ops.masked_lstm(v, m, *weights, zeros, zeros)[0])
  else:
    ours_fn = tf.function(lambda v, m: ops.masked_gru(v, m, *weights, zeros)[0])
  ours_out = ours_fn(x_t, mask_t).numpy()
  max_diff = float(np.abs(ours_out - keras_out).max())
  keras_ms = timed(lambda: keras_fn(x_t, mask_t).numpy(), repeats)
  ours_ms = timed(lambda: ours_fn(x_t, mask_t).numpy(), repeats)
  return dict(cell=cell, shape=(batch, steps, features, units), keras=keras_ms, ours=ours_ms,
              bit_equal=bool(np.array_equal(ours_out, keras_out)), max_diff=max_diff)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=20)
  parser.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=["lstm", "gru"])
  parser.add_argument("--threads", type=int, default=0,
                      help="intra-op threads for both (0 = TensorFlow's default)")
  args = parser.parse_args()
  if args.threads:
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
  rng = np.random.default_rng(0)
  print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"TF {tf.__version__}, Keras {keras.__version__}, "
        f"intra-op threads {args.threads or 'default'}")
  print("| cell | B, T, F, U | Keras median (min) ms | ours median (min) ms | speed-up "
        "| bit-equal |")
  print("| --- | --- | --- | --- | --- | --- |")
  for cell in args.cells:
    for case in CASES:
      r = bench_case(cell, *case, args.repeats, rng)
      (k_med, k_min), (o_med, o_min) = r["keras"], r["ours"]
      equal = "yes" if r["bit_equal"] else f"no (max diff {r['max_diff']:.2e})"
      print(f"| {cell} | {', '.join(map(str, r['shape']))} | {k_med:.2f} ({k_min:.2f}) | "
            f"{o_med:.2f} ({o_min:.2f}) | {k_med / o_med:.1f}x | {equal} |", flush=True)


if __name__ == "__main__":
  main()
