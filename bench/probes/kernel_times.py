"""GPU time of each kernel of one call (CUPTI through torch.profiler), for finding fixed costs.

  python3 bench/probes/kernel_times.py --shapes float32:1:10:64:256,float16:1:10:64:256

Per shape: 5 profiled calls after a warm-up; prints each kernel's name, launches per call and
mean GPU time, and the median span from a call's first kernel start to its last kernel end.
"""
import argparse
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

CALLS = 5


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--shapes", default="float32:1:10:64:256,float32:1:10:64:512,"
                      "float32:1:10:64:128,float16:1:10:64:256,float32:1:10:64:32")
  args = parser.parse_args()
  for spec in args.shapes.split(","):
    name, b, t, f, h = spec.split(":")
    case = harness.RnnCase("lstm", int(b), int(t), int(f), int(h), getattr(torch, name),
                           mask_kind="holes", return_sequences=True, initial_state=False, seed=1)
    runner = harness.run_ours(case, "auto")
    lstm, x = harness.cudnn_lstm(case, case.dtype)
    for label, fn in (("ours", runner.run), ("cudnn", lambda: lstm(x))):
      with torch.no_grad():
        for _ in range(3):
          fn()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
          for _ in range(CALLS):
            fn()
            torch.cuda.synchronize()
      kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
      kernels.sort(key=lambda e: e.time_range.start)
      per_name = {}
      for e in kernels:
        n, total = per_name.get(e.name, (0, 0.0))
        per_name[e.name] = (n + 1, total + e.time_range.elapsed_us())
      n = len(kernels) // CALLS  # the calls are apart (synchronised), each launches n
      spans = sorted(kernels[i * n + n - 1].time_range.end - kernels[i * n].time_range.start
                     for i in range(CALLS)) if n else [0]
      print(f"== {spec} {label}: {n} GPU activities per call, first start to last end "
            f"(median of {CALLS} calls): {spans[CALLS // 2]:.1f} us")
      for kernel_name, (count, total) in sorted(per_name.items(), key=lambda kv: -kv[1][1]):
        print(f"   {count / CALLS:5.1f} x {total / count:8.2f} us  {kernel_name[:110]}")
    del runner, lstm, x


if __name__ == "__main__":
  main()
