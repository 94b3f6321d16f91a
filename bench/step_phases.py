"""Where a step of the tensor-core row-group recurrence spends its time.

Needs a library built with the kernel's step stamps (kernels/rnn/step_stamps.cuh):
  STAMPS=1 OUTDIR=bench/build_stamps bench/build.sh
  TM_LIB=bench/build_stamps/libtm.so python3 bench/step_phases.py [--paths auto,stasync]

Lane 0 of every warp of the first cluster stamps clock64 and globaltimer at each
phase of steps 64..127. Per case it prints the median cycles of each phase
(within a warp: one SM clock), the step period, and, on the global timer (one
clock for all SMs), how long a block waits after the last peer sent its h.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (loads TM_LIB)

BLOCKS, WARPS, STEPS, PHASES = 16, 8, 64, 8
PHASE_NAMES = ("wait for h", "MMA + reduce", "cell + pack", "send (st.async/st.shared)",
               "bulk: fence + sync + copy", "loads + output", "loop back")


def read_stamps():
  host = np.zeros((BLOCKS, WARPS, STEPS, PHASES, 2), dtype=np.uint64)
  status = harness.LIB.tm_step_stamps(host.ctypes.data_as(ctypes.c_void_p))
  if status != 0:
    raise RuntimeError(f"tm_step_stamps: CUDA error {status}")
  return host.astype(np.int64)


def analyse(stamps, label):
  used = [(b, w) for b in range(BLOCKS) for w in range(WARPS) if stamps[b, w, :, 0, 0].any()]
  if not used:
    print(f"{label}: no stamps (not the row-group kernel?)")
    return
  blocks = sorted({b for b, _ in used})
  warps = sorted({w for _, w in used})
  clk = stamps[..., 0]
  gt = stamps[..., 1]
  # Phases 0..6 of steps 0..STEPS-2, then phase 0 of the next step closes "loop back".
  durations = {name: [] for name in PHASE_NAMES}
  for b, w in used:
    for s in range(STEPS - 1):
      marks = list(clk[b, w, s, :7]) + [clk[b, w, s + 1, 0]]
      for i, name in enumerate(PHASE_NAMES):
        durations[name].append(marks[i + 1] - marks[i])
  period_clk = np.median([clk[b, w, s + 1, 0] - clk[b, w, s, 0] for b, w in used
                          for s in range(STEPS - 1)])
  period_ns = np.median([gt[b, w, s + 1, 0] - gt[b, w, s, 0] for b, w in used
                         for s in range(STEPS - 1)])
  ghz = period_clk / period_ns if period_ns > 0 else float("nan")
  sms = [int(stamps[b, 0, 0, PHASES - 1, 0]) for b in blocks]
  print(f"== {label}: blocks {len(blocks)}, warps {len(warps)}, SMs {sms}")
  print(f"   step period: {period_clk:.0f} cycles = {period_ns:.0f} ns (clock ~{ghz:.2f} GHz)")
  for name in PHASE_NAMES:
    d = np.array(durations[name])
    print(f"   {name:28s} median {np.median(d):7.0f}  p10 {np.percentile(d, 10):7.0f}"
          f"  p90 {np.percentile(d, 90):7.0f} cycles")
  # Global timer: h of step s + 1 is sent at phase 5 (bulk: after the copy is
  # issued by warp 0) or phase 4 (st.async: each warp's own stores); a block's
  # wait ends at phase 1 of step s + 1.
  bulk = np.median(durations["bulk: fence + sync + copy"]) > 60
  lags, spreads, last_sender = [], [], []
  for s in range(STEPS - 1):
    # Bulk: warp 0 issues the copies; st.async: each warp its own stores.
    sent = np.array([gt[b, 0, s, 5] if bulk else max(gt[b, w, s, 4] for w in warps)
                     for b in blocks])
    spreads.append(sent.max() - sent.min())
    last_sender.append(blocks[int(np.argmax(sent))])
    for b in blocks:
      got = min(gt[b, w, s + 1, 1] for w in warps)
      lags.append(got - sent.max())
  ticks = np.diff(np.unique(gt[blocks[0], warps[0], :, :7]))
  print(f"   global timer: smallest tick {ticks.min() if ticks.size else 0} ns")
  print(f"   last sender -> wait done: median {np.median(lags):.0f} ns, p10 "
        f"{np.percentile(lags, 10):.0f}, p90 {np.percentile(lags, 90):.0f}")
  print(f"   spread of send times over blocks: median {np.median(spreads):.0f} ns, "
        f"p90 {np.percentile(spreads, 90):.0f}")
  counts = np.bincount(last_sender, minlength=BLOCKS)
  print(f"   last sender per step (block: count): "
        + ", ".join(f"{b}:{counts[b]}" for b in blocks if counts[b]))


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--paths", default="auto,stasync")
  args = parser.parse_args()
  harness.LIB.tm_step_stamps.restype = ctypes.c_int
  harness.LIB.tm_step_stamps.argtypes = [ctypes.c_void_p]
  props = torch.cuda.get_device_properties(0)
  print(f"device: {props.name}")
  shapes = ((8, 256, torch.float16), (1, 256, torch.float16), (4, 256, torch.float16),
            (8, 128, torch.float16), (8, 512, torch.float16))
  for batch, units, dtype in shapes:
    case = harness.RnnCase("lstm", batch, 512, 256, units, dtype, seed=1)
    for path in args.paths.split(","):
      runner = harness.run_ours(case, path)
      for _ in range(3):
        runner.run()
      torch.cuda.synchronize()
      read_stamps()  # zeroes them
      start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
      start.record()
      runner.run()
      end.record()
      torch.cuda.synchronize()
      analyse(read_stamps(), f"lstm {dtype} B={batch} T=512 F=256 H={units} {path} "
              f"({start.elapsed_time(end):.3f} ms with stamps)")


if __name__ == "__main__":
  main()
