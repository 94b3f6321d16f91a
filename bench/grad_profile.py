"""Where the CUDA gradient's time goes: one call per training-step shape of grad_harness.py's
bench grid, every kernel it launches timed by CUPTI (torch.profiler), printed in launch order
(repeats of one kernel merged): the projection, the recompute, the backward recurrence, then the
products over all pairs (d_kernel, d_recurrent_kernel, d_bias, d_x). Bench only (not a test).
  python3 bench/grad_profile.py [--bs 8,64,128] [--hs 128,512] [--path auto] [--json out.json]"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import grad_harness  # noqa: E402
import harness  # noqa: E402
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402


def short(name):
  for junk in ("void ", "tftrt_masking::", "rnn_gpu::", "rnn_grad_gpu::",
               "(anonymous namespace)::"):
    name = name.replace(junk, "")
  return name.split("(")[0][:70]


def runs(kernels):
  """Launch-ordered kernels with consecutive repeats of one name merged: [name, count, ms]."""
  out = []
  for k in kernels:
    name = short(k["name"])
    if out and out[-1][0] == name:
      out[-1][1] += 1
      out[-1][2] += k["ms"]
    else:
      out.append([name, 1, k["ms"]])
  return out


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--bs", default="8,64,128")
  parser.add_argument("--hs", default="128,512")
  parser.add_argument("--cells", default="lstm,gru")
  parser.add_argument("--dtypes", default="float32,float16")
  parser.add_argument("--path", default="auto", choices=grad_harness.GRAD_PATHS)
  parser.add_argument("--json")
  args = parser.parse_args()
  rows = []
  for cell in args.cells.split(","):
    for dtype in (getattr(torch, d) for d in args.dtypes.split(",")):
      for b in map(int, args.bs.split(",")):
        for h in map(int, args.hs.split(",")):
          case = harness.RnnCase(cell, b, 100, 128, h, dtype, mask_kind="holes",
                                 return_sequences=True, initial_state=False, seed=7,
                                 has_bias=True)
          grad = grad_harness.GradRunner(case, incoming=("output",), seed=7)
          grad_harness.set_grad_path(args.path)
          grad.run()
          torch.cuda.synchronize()
          with profile(activities=[ProfilerActivity.CUDA]) as prof:
            grad.run()
            torch.cuda.synchronize()
          events = sorted((e for e in prof.events() if "CUDA" in str(e.device_type)),
                          key=lambda e: e.time_range.start)
          kernels = [dict(name=e.name, ms=(e.time_range.end - e.time_range.start) / 1000.0)
                     for e in events]
          sequence = runs(kernels)
          total = sum(k["ms"] for k in kernels)
          by_name = {}
          for k in kernels:
            by_name.setdefault(short(k["name"]), [0, 0.0])
            by_name[short(k["name"])][0] += 1
            by_name[short(k["name"])][1] += k["ms"]
          top = sorted(by_name.items(), key=lambda kv: -kv[1][1])[:5]
          row = dict(cell=cell, dtype=str(dtype)[6:], B=b, H=h, T=100, F=128, path=args.path,
                     kernel_ms=total, launches=len(kernels),
                     top=[dict(name=n, count=c, ms=ms) for n, (c, ms) in top],
                     sequence=[dict(name=n, count=c, ms=ms) for n, c, ms in sequence])
          rows.append(row)
          print(f"{cell:5} {row['dtype']:8} B={b:3d} H={h:3d}: kernels {total:7.3f} ms in "
                f"{len(kernels)} launches, in launch order:", flush=True)
          for n, c, ms in sequence[:30]:
            print(f"      {ms:7.3f} ms  x{c:<4d} {n}")
          if args.json:
            with open(args.json, "w") as f:
              json.dump(rows, f, indent=1)
          del grad


if __name__ == "__main__":
  main()
