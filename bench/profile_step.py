"""Per-step latency probe: times the recurrence on one small shape per path, for ncu runs.

  [PATHS=auto,nomma,global,simple] [DTYPE=float16] python3 bench/profile_step.py [H] [B]
  (T = 256 and 512, F = 8, LSTM)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import harness  # noqa: E402

H = int(sys.argv[1]) if len(sys.argv) > 1 else 32
B = int(sys.argv[2]) if len(sys.argv) > 2 else 1
PATHS = os.environ.get("PATHS", "auto,global").split(",")
DTYPE = getattr(torch, os.environ.get("DTYPE", "float32"))
for path in PATHS:
  for T in (256, 512):
    case = harness.RnnCase("lstm", B, T, 8, H, DTYPE, mask_kind="holes", seed=1)
    harness.set_path(path)
    runner = harness.OursRunner(case)
    ms, _ = harness.time_fn(runner.run)
    print(f"{DTYPE} path={path} B={B} H={H} T={T}: {ms:.3f} ms, {ms * 1e3 / T:.2f} us/step", flush=True)
