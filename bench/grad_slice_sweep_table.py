"""Markdown tables of a grad_slice_sweep.py json: per shape and pass the planner's plan ("auto"),
the first planner's plan ("old"), and the fastest plan measured, with their plans.
  python3 bench/grad_slice_sweep_table.py SWEEP.json [--all]   # --all: every plan, sorted"""
import argparse
import json


def plan_text(p):
  order = "rows" if p["order"] == 0 else "cols"
  return (f"{p['units']} units ({p['unit_slices']}x{p['batch_slices']}), rb {p['rb']}, "
          f"ks {p['k_splits']}, chunk {p['chunk']}, ring {p['stages']}, pad {p['pad']}, {order}, "
          f"w{p.get('weight_bytes', 4)}")


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("json")
  parser.add_argument("--all", action="store_true")
  args = parser.parse_args()
  rows = json.load(open(args.json))
  shapes = {}
  for r in rows:
    shapes.setdefault((r["cell"], r["dtype"], r["B"], r["H"], r["pass_"]), []).append(r)
  print("| cell | dtype | B | H | pass | old ms | auto ms | best ms | auto / old | best / old "
        "| best plan | auto plan |")
  print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
  for (cell, dtype, b, h, pass_), table in shapes.items():
    best = min(table, key=lambda r: r["ms"])
    get = lambda label: next((r for r in table if r["label"] == label), None)
    auto, old = get("auto"), get("old")
    old_ms = old["ms"] if old else float("nan")
    print(f"| {cell} | {dtype} | {b} | {h} | {pass_} | {old_ms:.3f} | {auto['ms']:.3f} | "
          f"{best['ms']:.3f} | {auto['ms'] / old_ms:.2f} | {best['ms'] / old_ms:.2f} | "
          f"{best['label']}: {plan_text(best['plan'])} | {plan_text(auto['plan'])} |")
  if args.all:
    for key, table in shapes.items():
      print(f"\n{key}")
      for r in sorted(table, key=lambda r: r["ms"]):
        print(f"  {r['ms']:7.3f} {r['label']:32s} {plan_text(r['plan'])}")


if __name__ == "__main__":
  main()
