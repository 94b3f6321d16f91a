"""Sweep of the CUDA gradient's unit-slice plans (issue 18): every pass kernel timed by CUPTI
(torch.profiler) under forced plans (harness options grad_{recompute,backward}_*), per training
shape of grad_harness.py's bench (T=100, F=128, masks with holes, d_output given). Bench only.

Per shape and pass it times: the planner's plan ("auto"); the first planner's plan (OLD_PLANS:
two staged buffers, padded weights, columns fastest, as committed before this sweep) and that
plan with rows fastest / a deeper ring; every slice width that fits (the rest the planner's);
at the planner's width every chunk x ring depth x weight padding x task order; every k split.
Checks on the way (each can fail the run): the auto plan's gradients vs the float64 reference
(grad_harness.TOL), every forced plan's vs the auto plan's (TOL), and plans that share each
pass's chunk and k splits bit-equal (the width, ring, padding and order change no sum).

  python3 bench/grad_slice_sweep.py [--cells lstm,gru] [--bs 128,64,8] [--hs 512,256]
      [--dtypes float32] [--reps 3] [--quick] [--portable] [--passes backward] [--json out.json]
"""
import argparse
import ctypes
import itertools
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import grad_harness  # noqa: E402
import harness  # noqa: E402
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

LIB = harness.LIB
LIB.tm_grad_slice_plan.restype = ctypes.c_int32
LIB.tm_grad_slice_plan.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_int32, ctypes.c_int32,
                                   ctypes.c_int64, ctypes.c_int32,
                                   ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32)]
PLAN_FIELDS = ("units", "unit_slices", "batch_per_block", "batch_slices", "rb", "row_groups",
               "k_splits", "chunk", "stages", "pad", "order", "smem", "weight_bytes")
FORCE_PARTS = ("units", "chunk", "k_splits", "stages", "pad", "order", "weight_bytes")
PASSES = ("recompute", "backward")
SWEPT = list(PASSES)  # --passes
ROWS_FASTEST, COLUMNS_FASTEST = 0, 1  # SliceTaskOrder

# The first planner's plans (kernels/rnn/rnn_grad_plans.cc before this sweep, H200: 132 SMs,
# 227 KB): (gates, units, batch) -> per pass (units per block, chunk, k splits); it staged two
# buffers, padded the weights by 4 floats and ran columns fastest.
OLD_PLANS = {
    (4, 128, 8): ((8, 128, 16), (8, 512, 32)),
    (4, 128, 64): ((64, 128, 4), (64, 512, 16)),
    (4, 128, 128): ((64, 128, 4), (64, 512, 16)),
    (3, 128, 8): ((8, 128, 16), (8, 384, 32)),
    (3, 128, 64): ((64, 128, 5), (64, 384, 16)),
    (3, 128, 128): ((128, 128, 2), (128, 384, 8)),
    (4, 256, 8): ((16, 256, 16), (16, 1024, 32)),
    (4, 256, 64): ((32, 256, 8), (32, 1024, 32)),
    (4, 256, 128): ((32, 256, 8), (32, 512, 32)),
    (4, 512, 8): ((16, 512, 16), (16, 2048, 32)),
    (4, 512, 64): ((20, 256, 1), (20, 128, 7)),
    (4, 512, 128): ((16, 128, 4), (16, 64, 8)),
    (3, 256, 8): ((16, 256, 21), (16, 768, 32)),
    (3, 256, 64): ((64, 256, 5), (64, 768, 16)),
    (3, 256, 128): ((52, 256, 1), (52, 768, 3)),
    (3, 512, 8): ((16, 512, 21), (16, 1536, 32)),
    (3, 512, 64): ((20, 512, 2), (20, 512, 7)),
    (3, 512, 128): ((16, 256, 5), (16, 256, 16)),
}


def force_options(forces):
  """Sets the harness options to forces[pass] (dicts of FORCE_PARTS; pad/order as planned: 0..)."""
  values = {}
  for pass_, force in zip(PASSES, forces):
    for part in FORCE_PARTS:
      v = force.get(part)
      if part in ("pad", "order"):
        v = 0 if v is None else v + 1
      values[f"grad_{pass_}_{part}"] = v or 0
  harness.set_options(**values)


def plan_of(batch, units, gates, sms, optin, model_bytes):
  """Both passes' plans under the current options, or None."""
  n = len(PLAN_FIELDS)
  out = (ctypes.c_int32 * (2 * n))()
  if not LIB.tm_grad_slice_plan(batch, units, gates, sms, optin, model_bytes,
                                harness.PATH_OPTIONS, out):
    return None
  return [dict(zip(PLAN_FIELDS, out[n * p:n * p + n])) for p in range(2)]


def candidates(pass_index, auto, gates, units, quick, old, model_bytes):
  """Forces of one pass: the old plan (and its ring / order variants), widths (and for a 16-bit
  model both weight sizes), staging, splits."""
  depth = ((gates * units if pass_index == 1 else units) + 3) // 4 * 4
  out = [("auto", {})]
  if old:
    u, c, k = old[pass_index]
    base = dict(units=u, chunk=c, k_splits=k, stages=2, pad=4, order=COLUMNS_FASTEST,
                weight_bytes=4)
    out.append(("old", base))
    out.append(("old rows", dict(base, order=ROWS_FASTEST)))
    out.append(("old rows pad0", dict(base, order=ROWS_FASTEST, pad=0)))
    for st in (3, 4):
      out.append((f"old ring{st}", dict(base, stages=st)))
      out.append((f"old rows ring{st}", dict(base, stages=st, order=ROWS_FASTEST)))
  if quick:
    return out
  for u in range(4, 257, 4):
    for wb in ((4, 2) if model_bytes == 2 else (4,)):
      out.append((f"width {u} w{wb}", dict(units=u, weight_bytes=wb)))
  chunks = [depth] + [c for c in (1024, 512, 256, 128, 64) if c < depth]
  layouts = ((0, ROWS_FASTEST), (4, ROWS_FASTEST), (4, COLUMNS_FASTEST))
  for c, st, (pad, order) in itertools.product(chunks, (2, 3, 4), layouts):
    out.append((f"chunk {c} ring{st} pad{pad} {'rows' if order == ROWS_FASTEST else 'cols'}",
                dict(units=auto["units"], chunk=c, stages=st, pad=pad, order=order,
                     weight_bytes=auto["weight_bytes"])))
  for k in (1, 2, 4, 8, 16, 32):
    out.append((f"ks {k}", dict(units=auto["units"], chunk=auto["chunk"], k_splits=k,
                                stages=auto["stages"], pad=auto["pad"], order=auto["order"],
                                weight_bytes=auto["weight_bytes"])))
  return out


def rel_error(got, want):
  if got is None or want is None:
    return 0.0
  d = np.linalg.norm((got - want).ravel())
  n = np.linalg.norm(want.ravel())
  return float(d / n) if n > 0 else float(d)


def sweep_shape(cell, dtype, batch, units, sms, optin, reps, quick):
  gates = 4 if cell == "lstm" else 3
  model_bytes = 2 if dtype in (torch.float16, torch.bfloat16) else 4
  case = harness.RnnCase(cell, batch, 100, 128, units, dtype, mask_kind="holes",
                         return_sequences=True, initial_state=False, seed=7, has_bias=True)
  grad = grad_harness.GradRunner(case, incoming=("output",), seed=7)
  grad_harness.set_grad_path("auto")
  force_options([{}, {}])
  auto = plan_of(batch, units, gates, sms, optin, model_bytes)
  if auto is None:
    print(f"{cell} B={batch} U={units}: no unit-slice plan")
    return []
  old = OLD_PLANS.get((gates, units, batch))
  # Runs: pass 0's and pass 1's candidates side by side (each pass plans on its own).
  lists = [[], []]
  for p in range(2):
    seen = set()
    # A pass left out (--passes) keeps only its planner's plan (no kernel of it is timed where
    # the fast recompute replaces the recompute pass).
    for label, force in (candidates(p, auto[p], gates, units, quick, old, model_bytes)
                         if PASSES[p] in SWEPT else [("auto", {})]):
      forces = [{}, {}]
      forces[p] = force
      force_options(forces)
      plans = plan_of(batch, units, gates, sms, optin, model_bytes)
      if plans is None:
        continue
      key = tuple(plans[p][f] for f in PLAN_FIELDS)
      if key in seen and label not in ("auto", "old"):
        continue
      seen.add(key)
      lists[p].append((label, force, plans[p]))
  runs = list(itertools.zip_longest(*lists, fillvalue=None))
  failures = []
  # Correctness: auto vs the reference, every run vs auto, equal sums bit-equal.
  tol = grad_harness.TOL[dtype]
  results, by_sums = [], {}
  for i, (rec, bwd) in enumerate(runs):
    force_options([rec[1] if rec else {}, bwd[1] if bwd else {}])
    plans = plan_of(batch, units, gates, sms, optin, model_bytes)
    grad.poison()
    grad.run()
    torch.cuda.synchronize()
    got = grad.results()
    if i == 0:
      want = grad.reference()
      worst = max(rel_error(got[k], want[k]) for k in got)
      print(f"{cell} {str(dtype)[6:]} B={batch} U={units}: auto vs reference {worst:.1e}")
      if not worst < tol:
        failures.append(f"auto vs reference {worst:.1e}")
      auto_got = got
    worst = max(rel_error(got[k], auto_got[k]) for k in got)
    if not worst < tol:
      failures.append(f"run {i} ({rec and rec[0]} / {bwd and bwd[0]}) vs auto {worst:.1e}")
    sums = tuple((pl["chunk"], pl["k_splits"]) for pl in plans)
    if sums in by_sums:
      j, first = by_sums[sums]
      for k in got:
        if got[k] is not None and not np.array_equal(got[k], first[k], equal_nan=True):
          failures.append(f"run {i} not bit-equal to run {j} (same chunks and k splits): {k}")
          break
    else:
      by_sums[sums] = (i, got)
    results.append(plans)
  # Timing: CUPTI durations of the two unit-slice kernels, runs split by a marker kernel.
  marker = torch.zeros(1, device="cuda")
  with profile(activities=[ProfilerActivity.CUDA]) as prof:
    for i, (rec, bwd) in enumerate(runs):
      force_options([rec[1] if rec else {}, bwd[1] if bwd else {}])
      for _ in range(reps):
        marker.fill_(i)
        grad.run()
    marker.fill_(-1)
    torch.cuda.synchronize()
  events = sorted((e for e in prof.events() if "CUDA" in str(e.device_type)),
                  key=lambda e: e.time_range.start)
  times = [([], []) for _ in runs]
  run = -1
  counts = 0
  for e in events:
    if "fill" in e.name.lower():
      counts += 1
      run = (counts - 1) // reps if counts <= reps * len(runs) else -1
      continue
    if run >= 0 and "UnitSliceKernel" in e.name:
      p = 1 if ", true>" in e.name else 0
      times[run][p].append((e.time_range.end - e.time_range.start) / 1000.0)
  rows = []
  for p in range(2):
    if PASSES[p] not in SWEPT:
      continue
    table = []
    for i, pair in enumerate(runs):
      item = pair[p]
      if item is None:
        continue
      ms = times[i][p]
      if len(ms) != reps:
        failures.append(f"run {i} pass {p}: {len(ms)} kernel times, expected {reps}")
        continue
      table.append(dict(cell=cell, dtype=str(dtype)[6:], B=batch, H=units, T=100, F=128,
                        pass_=PASSES[p], label=item[0], plan=results[i][p],
                        ms=float(np.median(ms)), all_ms=ms))
    best = min(table, key=lambda r: r["ms"]) if table else None
    auto_ms = next((r["ms"] for r in table if r["label"] == "auto"), float("nan"))
    old_ms = next((r["ms"] for r in table if r["label"] == "old"), float("nan"))
    print(f"  {PASSES[p]}: auto {auto_ms:.3f} ms, old {old_ms:.3f} ms, best {best['ms']:.3f} ms "
          f"({best['label']}), {len(table)} plans")
    for r in sorted(table, key=lambda r: r["ms"])[:8] + [r for r in table if r["label"] in
                                                          ("auto", "old")]:
      pl = r["plan"]
      print(f"    {r['ms']:7.3f} ms {r['label']:28s} units {pl['units']:3d} "
            f"{pl['unit_slices']:3d}x{pl['batch_slices']:<3d} rows {pl['batch_per_block']:3d} "
            f"rb {pl['rb']} ks {pl['k_splits']:2d} chunk {pl['chunk']:4d} ring {pl['stages']} "
            f"pad {pl['pad']} order {pl['order']} w{pl['weight_bytes']} smem {pl['smem']}")
    rows.extend(table)
  for f in failures:
    print(f"  FAIL {cell} {str(dtype)[6:]} B={batch} U={units}: {f}")
  grad_harness.FAILURES.extend(failures)
  force_options([{}, {}])
  return rows


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--cells", default="lstm,gru")
  parser.add_argument("--bs", default="128,64,8")
  parser.add_argument("--hs", default="512,256")
  parser.add_argument("--dtypes", default="float32")
  parser.add_argument("--reps", type=int, default=3)
  parser.add_argument("--quick", action="store_true", help="auto and the old plan's variants")
  parser.add_argument("--portable", action="store_true", help="as grad_harness.py --portable")
  parser.add_argument("--passes", default="recompute,backward",
                      help="passes swept (the other keeps its planner's plan, untimed)")
  parser.add_argument("--json")
  args = parser.parse_args()
  SWEPT[:] = args.passes.split(",")
  if args.portable:
    grad_harness.use_portable()
  props = torch.cuda.get_device_properties(0)
  sms = props.multi_processor_count
  optin = getattr(props, "shared_memory_per_block_optin", 232448)
  print(f"{props.name}: {sms} SMs, {optin} B shared per block (opt-in)")
  rows = []
  # Shapes in the order given (the biggest first by default: a run cut short keeps those).
  for h in map(int, args.hs.split(",")):
    for b in map(int, args.bs.split(",")):
      for cell in args.cells.split(","):
        for dtype in (getattr(torch, d) for d in args.dtypes.split(",")):
          rows.extend(sweep_shape(cell, dtype, b, h, sms, optin, args.reps, args.quick))
          if args.json:
            with open(args.json, "w") as f:
              json.dump(rows, f, indent=1)
  print(f"failures: {len(grad_harness.FAILURES)}")
  sys.exit(1 if grad_harness.FAILURES else 0)


if __name__ == "__main__":
  main()
