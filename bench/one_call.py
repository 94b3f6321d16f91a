"""One forward call of the masked recurrence (after one warm-up call), for profilers:
  ncu -k regex:MmaBlock -c 1 python3 bench/one_call.py --cell lstm --dtype float16 --b 8 --h 128
--portable chooses as on a GPU of compute capability 8.0 (with a compute_80 libtm.so: TM_LIB)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import torch  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--cell", default="lstm")
parser.add_argument("--dtype", default="float16")
parser.add_argument("--b", type=int, default=8)
parser.add_argument("--t", type=int, default=100)
parser.add_argument("--f", type=int, default=64)
parser.add_argument("--h", type=int, default=128)
parser.add_argument("--path", default="auto", choices=harness.PATHS)
parser.add_argument("--portable", action="store_true")
args = parser.parse_args()
harness.PORTABLE = args.portable
harness.set_path(args.path)
case = harness.RnnCase(args.cell, args.b, args.t, args.f, args.h, getattr(torch, args.dtype),
                       mask_kind="holes")
runner = harness.OursRunner(case)
runner.run()
torch.cuda.synchronize()
runner.run()
torch.cuda.synchronize()
print("done")
