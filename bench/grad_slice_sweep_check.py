"""How good the unit-slice planner's picks are on a grad_slice_sweep.py json: for each shape and
pass, the plan PlanUnitSlices picks for that GPU (through libtm.so's tm_grad_slice_plan; no GPU
needed) and its measured time if the sweep timed that exact plan, against the fastest measured.
  python3 bench/grad_slice_sweep_check.py SWEEP.json... [--sms 132] [--optin 232448]"""
import argparse
import ctypes
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_FIELDS = ("units", "unit_slices", "batch_per_block", "batch_slices", "rb", "row_groups",
               "k_splits", "chunk", "stages", "pad", "order", "smem", "weight_bytes")
COMPARED = ("units", "unit_slices", "batch_per_block", "batch_slices", "rb", "k_splits", "chunk",
            "stages", "pad", "order", "weight_bytes")


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("json", nargs="+")
  parser.add_argument("--sms", type=int, default=132)
  parser.add_argument("--optin", type=int, default=232448)
  args = parser.parse_args()
  lib = ctypes.CDLL(os.environ.get("TM_LIB", os.path.join(ROOT, "bench", "build", "libtm.so")))
  lib.tm_grad_slice_plan.restype = ctypes.c_int32
  options = (ctypes.c_int32 * lib.tm_rnn_option_count())()  # all zero: the planner's choice
  rows = [r for path in args.json for r in json.load(open(path))]
  shapes = {}
  for r in rows:
    shapes.setdefault((r["cell"], r["dtype"], r["B"], r["H"], r["pass_"]), []).append(r)
  regrets, unmeasured = [], 0
  for (cell, dtype, b, h, pass_), table in shapes.items():
    gates = 4 if cell == "lstm" else 3
    model_bytes = 4 if dtype == "float32" else 2
    out = (ctypes.c_int32 * (2 * len(PLAN_FIELDS)))()
    if not lib.tm_grad_slice_plan(ctypes.c_int64(b), ctypes.c_int64(h), gates, args.sms,
                                  ctypes.c_int64(args.optin), model_bytes, options, out):
      print(f"{cell} {dtype} B={b} H={h} {pass_}: no plan")
      continue
    p = 1 if pass_ == "backward" else 0
    pick = dict(zip(PLAN_FIELDS, out[p * len(PLAN_FIELDS):(p + 1) * len(PLAN_FIELDS)]))
    best = min(table, key=lambda r: r["ms"])
    hit = next((r for r in table if all(r["plan"][k] == pick[k] for k in COMPARED)), None)
    if hit is None:
      unmeasured += 1
      print(f"{cell:4} {dtype:7} B={b:3d} H={h} {pass_:9}: pick not measured "
            f"{[pick[k] for k in COMPARED]}; best {best['ms']:.3f} ms ({best['label']})")
      continue
    regrets.append(hit["ms"] / best["ms"] - 1)
    print(f"{cell:4} {dtype:7} B={b:3d} H={h} {pass_:9}: pick {hit['ms']:.3f} ms "
          f"({hit['label']}), best {best['ms']:.3f} ms ({best['label']}), "
          f"+{100 * regrets[-1]:.1f}%")
  if regrets:
    print(f"{len(regrets)} picks measured, {unmeasured} not: mean +{100 * sum(regrets) / len(regrets):.1f}%"
          f", worst +{100 * max(regrets):.1f}% over the fastest measured")


if __name__ == "__main__":
  main()
