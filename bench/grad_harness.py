"""GPU harness for the CUDA gradient (LaunchMaskedRnnGrad): correctness and a training-step bench.

Runs on the device machine like bench/harness.py (whose RnnCase, runner and timing it reuses),
against bench/build/libtm.so. Reference: reference.masked_rnn_grad (python/tftrt_masking, the
float64 NumPy backward that the CPU tests check against tf.test.compute_gradient and Keras).

  python3 bench/grad_harness.py check [--json out.json]   # every cell / option / dtype
  python3 bench/grad_harness.py bench [--json out.json]   # fwd+bwd vs torch.nn.LSTM/GRU (cuDNN)

check: each gradient (x, kernel, recurrent_kernel, bias, initial states) vs the reference on the
same (dtype-rounded) inputs, rel. L2 error under TOL; outputs poisoned with NaN first; every
call run twice and compared bit for bit (no atomics: deterministic).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import time

import numpy as np
import torch

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import harness  # noqa: E402  (loads libtm.so)
from harness import ACTS, CELLS, DEV, DTYPES, LIB, RnnCase, reference  # noqa: E402

LIB.tm_rnn_grad_workspace_bytes.restype = ctypes.c_int64
LIB.tm_rnn_grad_workspace_bytes.argtypes = LIB.tm_rnn_workspace_bytes.argtypes
LIB.tm_rnn_grad.restype = ctypes.c_int
LIB.tm_rnn_grad.argtypes = LIB.tm_rnn.argtypes  # the same options array (harness.PATH_OPTIONS)

# Rel. L2 error bounds. float16/bfloat16: inputs are the same rounded values in the reference,
# the kernel accumulates in float32 and rounds each gradient once (bf16: 2^-9 per element).
TOL = {torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 1e-2, torch.float64: 1e-10}
FAILURES = []
GRAD_NAMES = ("x", "kernel", "recurrent_kernel", "bias", "initial_h", "initial_c")


class GradRunner:
  """Incoming gradients (random, in dtype) and outgoing ones on the GPU; run() poisons the
  outgoing gradients and calls LaunchMaskedRnnGrad."""

  def __init__(self, case: RnnCase, incoming=("output", "final_h", "final_c"), seed=0):
    self.case = case
    c, a = case, case.attrs
    self.inputs = case.device_inputs()
    g = torch.Generator().manual_seed(seed + 77)
    rand = lambda *shape: (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1)
    out_shape = (c.batch, c.steps, c.units) if a["return_sequences"] else (c.batch, c.units)
    lstm = c.cell == "lstm"
    self.d_in = {
        "output": rand(*out_shape).to(c.dtype) if "output" in incoming else None,
        "final_h": rand(c.batch, c.units).to(c.dtype) if "final_h" in incoming else None,
        "final_c": (rand(c.batch, c.units).to(c.dtype)
                    if lstm and "final_c" in incoming else None)}
    self.d_in_dev = {k: None if v is None else v.to(DEV) for k, v in self.d_in.items()}
    gates = c.recurrent_kernel.shape[1]
    shapes = dict(x=(c.batch, c.steps, c.features), kernel=(c.features, gates),
                  recurrent_kernel=(c.units, gates),
                  bias=None if c.bias is None else tuple(c.bias.shape),
                  initial_h=(c.batch, c.units), initial_c=(c.batch, c.units) if lstm else None)
    self.grads = {k: None if s is None else harness.poison(s, c.dtype) for k, s in shapes.items()}
    self.ws_bytes = LIB.tm_rnn_grad_workspace_bytes(
        CELLS[c.cell], c.batch, c.steps, c.features, c.units, ACTS[a["activation"]],
        ACTS[a["recurrent_activation"]], int(a["has_bias"]), int(a["reset_after"]),
        DTYPES[c.dtype])
    if self.ws_bytes < 0:
      raise ValueError("invalid config")
    self.workspace = torch.empty(max(self.ws_bytes, 1), dtype=torch.uint8, device=DEV)
    i = self.inputs
    init = i["initial"] or [None, None]
    tensors = (i["x"], i["mask"], i["kernel"], i["recurrent_kernel"], i["bias"], init[0],
               init[1] if len(init) > 1 else None, self.d_in_dev["output"],
               self.d_in_dev["final_h"], self.d_in_dev["final_c"],
               *[self.grads[k] for k in GRAD_NAMES], self.workspace)
    self._ptrs = (ctypes.c_void_p * 17)(
        *[(t.data_ptr() if t is not None and t.numel() else None) for t in tensors])
    self._ptrs[16] = self.workspace.data_ptr()
    self._call_args = (
        CELLS[c.cell], c.batch, c.steps, c.features, c.units, ACTS[a["activation"]],
        ACTS[a["recurrent_activation"]], int(a["has_bias"]), int(a["reset_after"]),
        int(a["go_backwards"]), int(a["return_sequences"]), int(a["zero_output_for_mask"]),
        DTYPES[c.dtype], 1 if c.mask_dtype == "int32" else 0, self._ptrs, self.ws_bytes,
        harness._stream(), harness.PATH_OPTIONS)

  def poison(self):
    for t in self.grads.values():
      if t is not None:
        t.fill_(float("nan"))

  def run(self):
    harness._check_status(LIB.tm_rnn_grad(*self._call_args), "LaunchMaskedRnnGrad")

  def results(self):
    return {k: None if t is None else t.double().cpu().numpy() for k, t in self.grads.items()}

  def reference(self):
    c, a = self.case, self.case.attrs
    i = c.numpy_inputs()
    f64 = lambda t: None if t is None else t.double().numpy()
    want = reference.masked_rnn_grad(
        c.cell, i["x"], i["mask"], i["kernel"], i["recurrent_kernel"], i["bias"],
        i["initial_state"], f64(self.d_in["output"]),
        (f64(self.d_in["final_h"]),) + ((f64(self.d_in["final_c"]),) if c.cell == "lstm" else ()),
        activation_name=a["activation"], recurrent_activation=a["recurrent_activation"],
        go_backwards=a["go_backwards"], return_sequences=a["return_sequences"],
        zero_output_for_mask=a["zero_output_for_mask"], reset_after=a["reset_after"])
    states = want["d_initial_state"]
    return dict(x=want["d_x"], kernel=want["d_kernel"],
                recurrent_kernel=want["d_recurrent_kernel"], bias=want["d_bias"],
                initial_h=states[0], initial_c=states[1] if c.cell == "lstm" else None)


GRAD_PATHS = ("auto", "slices", "fast", "persistent", "per_step")


def set_grad_path(path, recompute_only=False):
  """'auto': the launcher's choice (the unit-slice kernels wherever their plan fits: fp32
  arithmetic, not GRU reset_after=false, their recompute on the forward's own kernels for
  float32 and bfloat16 up to 128 units, float16 up to 512; else the split-K persistent kernels up to B x U = 32768, else one
  launch per product and step); 'slices': auto, but the unit-slice kernels recompute the forward
  themselves, step by step; 'fast': auto, but the forward's own kernels recompute wherever the
  workspace has room (up to 512 units), also for float32 above 128; 'persistent': the split-K persistent
  cooperative kernels wherever they apply (not GRU reset_after=false); 'per_step': one launch
  per product and step. recompute_only: the gradient stops after the forward recompute (bench
  only: its outputs are left unwritten)."""
  harness.set_options(grad_per_step=path == "per_step", grad_persistent=path == "persistent",
                      grad_slice_recompute=path == "slices", grad_fast_recompute=path == "fast",
                      grad_recompute_only=recompute_only)


def check_grad(case: RnnCase, label: str, incoming=("output", "final_h", "final_c"), seed=0):
  """Both paths against the reference; each run twice and compared bit for bit."""
  worst = 0.0
  want = None
  for path in GRAD_PATHS:
    set_grad_path(path)
    try:
      runner = GradRunner(case, incoming, seed)
      runs = []
      for _ in range(2):
        runner.poison()
        runner.run()
        torch.cuda.synchronize()
        runs.append({k: None if t is None else t.clone() for k, t in runner.grads.items()})
      deterministic = all(t is None or t.numel() == 0 or torch.equal(t, runs[1][k])
                          for k, t in runs[0].items())
      got = runner.results()
      want = want if want is not None else runner.reference()
    except Exception as e:  # a launch error fails this case, not the suite
      print(f"  FAIL {label} path={path}: {e}")
      FAILURES.append(f"{label} path={path}: {e}")
      worst = float("inf")
      continue
    errors = {k: harness.rel_error(got[k], want[k]) for k in GRAD_NAMES if want[k] is not None}
    e = max(errors.values(), key=lambda v: (np.isnan(v), v))
    ok = deterministic and all(np.isfinite(v) and v < TOL[case.dtype] for v in errors.values())
    print(f"  {'ok ' if ok else 'FAIL'} {label} path={path}: worst {e:.1e} "
          + " ".join(f"{k}={v:.1e}" for k, v in errors.items())
          + ("" if deterministic else " NOT DETERMINISTIC"))
    if not ok:
      FAILURES.append(f"{label} path={path}")
    worst = max(worst, e if np.isfinite(e) else float("inf"))
  set_grad_path("auto")
  return worst


def check_suite():
  print("== CUDA gradient vs float64 NumPy backward (rel. L2 error per gradient) ==")
  rows, worst = [], {d: 0.0 for d in TOL}
  cells = (("lstm", True), ("gru", True), ("gru", False), ("simple_rnn", True))
  seed = 0

  def run(cell, ra, dtype, b, t, f, u, label_extra="", incoming=("output", "final_h", "final_c"),
          **kw):
    nonlocal seed
    seed += 1
    kw.setdefault("mask_kind", "holes_full_rows")
    case = RnnCase(cell, b, t, f, u, dtype, reset_after=ra, seed=seed, **kw)
    label = (f"{cell}{'' if cell != 'gru' else ' ra=' + str(int(ra))} {str(dtype)[6:]} B{b} T{t} "
             f"F{f} U{u} {label_extra}".strip())
    e = check_grad(case, label, incoming, seed)
    if e is not None:
      worst[dtype] = max(worst[dtype], e if np.isfinite(e) else float("inf"))
    rows.append(dict(label=label, error=e))

  for cell, ra in cells:
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
      run(cell, ra, dtype, 5, 7, 4, 6)
      run(cell, ra, dtype, 4, 6, 3, 5, "go_backwards return_sequences=0", go_backwards=True,
          return_sequences=False)
    f32 = torch.float32
    for gb in (False, True):
      for rs in (False, True):
        for zof in (False, True):
          run(cell, ra, f32, 4, 6, 3, 8, f"gb={int(gb)} rs={int(rs)} zof={int(zof)}",
              go_backwards=gb, return_sequences=rs, zero_output_for_mask=zof)
    run(cell, ra, f32, 3, 5, 4, 6, "no initial state, no bias", initial_state=False,
        has_bias=False)
    run(cell, ra, f32, 3, 5, 4, 6, "relu / hard_sigmoid", activation="relu",
        recurrent_activation="hard_sigmoid")
    run(cell, ra, f32, 3, 5, 4, 6, "linear / hard_sigmoid_keras2", activation="linear",
        recurrent_activation="hard_sigmoid_keras2")
    run(cell, ra, f32, 3, 5, 4, 6, "sigmoid / tanh", activation="sigmoid",
        recurrent_activation="tanh")
    for kind in ("none", "left", "right"):
      run(cell, ra, f32, 4, 6, 3, 5, f"mask={kind}", mask_kind=kind)
    run(cell, ra, f32, 4, 6, 3, 5, "int32 mask", mask_dtype="int32")
    run(cell, ra, f32, 1, 1, 3, 5, "B=1 T=1")
    run(cell, ra, f32, 1, 9, 3, 5, "B=1")
    run(cell, ra, f32, 6, 1, 3, 5, "T=1")
    run(cell, ra, f32, 3, 0, 3, 5, "T=0")
    run(cell, ra, f32, 3, 5, 3, 5, "only d_output", incoming=("output",))
    run(cell, ra, f32, 3, 5, 3, 5, "only d_final_h", incoming=("final_h",))
    # Split K: the backward step (K = G*U >= 512), the weight gradients (B*T >= 512),
    # 64-row tiles (B*T > 16, F/U > 16).
    run(cell, ra, f32, 3, 4, 5, 128, "split-K step")
    run(cell, ra, f32, 6, 100, 40, 72, "split-K weights")
    run(cell, ra, torch.float16, 6, 100, 40, 72, "split-K weights")
    run(cell, ra, f32, 17, 20, 33, 130, "odd tiles")
    # 16-bit above 128 units: the fast recompute on the 16-bit forward (float16 by the rule,
    # bfloat16 on path 'fast'); 16-bit operands of the tensor-core products (1 or 2 TF32 MMAs).
    run(cell, ra, torch.float16, 17, 20, 33, 130, "odd tiles")
    run(cell, ra, torch.bfloat16, 9, 12, 33, 200, "odd tiles")
  # Benchmark-sized shapes (one each).
  run("lstm", True, torch.float32, 8, 100, 128, 128, "bench shape")
  run("gru", True, torch.float16, 8, 50, 128, 512, "bench shape")
  run("lstm", True, torch.float32, 64, 20, 128, 512, "bench shape")
  print("worst rel. error per dtype: "
        + ", ".join(f"{str(d)[6:]} {e:.1e} (bound {TOL[d]:.0e})" for d, e in worst.items()))
  return dict(rows=rows, worst={str(d)[6:]: e for d, e in worst.items()},
              tolerance={str(d)[6:]: t for d, t in TOL.items()})


# --------------------------------------------------------------------------- benchmark
def cudnn_module(cell, case: RnnCase, dtype):
  """torch.nn.LSTM / GRU with our weights (Keras layout -> PyTorch's: gate order i,f,g,o is
  the same for LSTM; Keras GRU z,r,h vs PyTorch r,z,n: reordered); cuDNN runs the full,
  right-padded sequences."""
  module_class = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
  m = module_class(case.features, case.units, batch_first=True).to(DEV)
  U = case.units
  w, r = case.kernel.double().T, case.recurrent_kernel.double().T
  if cell == "gru":
    order = torch.cat([torch.arange(U, 2 * U), torch.arange(0, U), torch.arange(2 * U, 3 * U)])
    w, r = w[order], r[order]
  with torch.no_grad():
    m.weight_ih_l0.copy_(w)
    m.weight_hh_l0.copy_(r)
    m.bias_ih_l0.zero_()
    m.bias_hh_l0.zero_()
  return m.to(dtype)


def bench(results, bs=(8, 64, 128), hs=(128, 512), steps=100, features=128,
          dtypes=("float32", "float16"), cells=("lstm", "gru"), json_path=None, quick=False):
  print("== Training step, forward + backward: ours (masks with holes, recompute in the "
        "backward) vs torch.nn.LSTM/GRU (cuDNN, right-padded, full T), CUDA events, medians; "
        "bwd: the gradient on the launcher's choice (unit-slice kernels where they fit), "
        "recomp: the same, stopped after its forward recompute (projection included), "
        "slices: the gradient with the unit-slice kernels' own recompute, "
        "fast: the gradient with the forward's kernels' recompute wherever it fits (<= 512 units), "
        "bwd_pers: the split-K persistent kernels, bwd_step: one launch per product and step "
        "(quick: not timed, nan), ours: forward + gradient on the launcher's choice ==")
  torch.backends.cudnn.benchmark = False
  torch.backends.cuda.matmul.allow_tf32 = False
  torch.backends.cudnn.allow_tf32 = False
  hdr = (f"  {'cell':5} {'B':>4} {'T':>4} {'F':>4} {'H':>4} {'dtype':8} {'fwd_ms':>8} "
         f"{'bwd_ms':>8} {'recomp':>8} {'slices':>8} {'fast':>8} {'bwd_pers':>8} {'bwd_step':>8} {'ours_ms':>8} "
         f"{'cudnn_f':>8} {'cudnn_fb':>8} "
         f"{'ratio':>6}")
  print(hdr)
  rows = []
  seed = 5000
  for cell in cells:
    for dtype in (getattr(torch, d) for d in dtypes):
      for B in bs:
        for H in hs:
          seed += 1
          try:
            case = RnnCase(cell, B, steps, features, H, dtype, mask_kind="holes",
                           return_sequences=True, initial_state=False, seed=seed, has_bias=True)
            harness.set_path("auto")
            fwd = harness.OursRunner(case)
            grad = GradRunner(case, incoming=("output",), seed=seed)
            fwd_ms, _ = harness.time_fn(fwd.run)
            bwd_per_step_ms = bwd_persistent_ms = float("nan")
            if not quick:
              set_grad_path("per_step")
              bwd_per_step_ms, _ = harness.time_fn(grad.run)
              set_grad_path("persistent")
              bwd_persistent_ms, _ = harness.time_fn(grad.run)
            set_grad_path("slices")
            bwd_slices_ms, _ = harness.time_fn(grad.run)
            set_grad_path("fast")
            bwd_fast_ms, _ = harness.time_fn(grad.run)
            set_grad_path("auto", recompute_only=True)
            recompute_ms, _ = harness.time_fn(grad.run)
            set_grad_path("auto")
            bwd_ms, _ = harness.time_fn(grad.run)

            def step():  # the launcher's choice of path
              fwd.run()
              grad.run()
            ours_ms, _ = harness.time_fn(step)
            ok = all(t is None or bool(torch.isfinite(t).all()) for t in grad.grads.values())
            m = cudnn_module(cell, case, dtype)
            x = case.x.to(DEV, dtype).requires_grad_(True)
            d_out = grad.d_in_dev["output"]

            def cudnn_step():
              out, _ = m(x)
              out.backward(d_out)
            with torch.no_grad():
              cudnn_f_ms, _ = harness.time_fn(lambda: m(x))
            cudnn_ms, _ = harness.time_fn(cudnn_step)
          except Exception as e:
            print(f"  {cell} B{B} H{H} {dtype}: FAILED {e}")
            FAILURES.append(f"bench {cell} B{B} H{H} {dtype}: {e}")
            continue
          row = dict(cell=cell, B=B, T=steps, F=features, H=H, dtype=str(dtype)[6:],
                     ours_fwd_ms=fwd_ms, ours_bwd_ms=bwd_ms, ours_recompute_ms=recompute_ms,
                     ours_bwd_slice_recompute_ms=bwd_slices_ms,
                     ours_bwd_fast_recompute_ms=bwd_fast_ms,
                     ours_bwd_persistent_ms=bwd_persistent_ms,
                     ours_bwd_per_step_ms=bwd_per_step_ms, ours_ms=ours_ms,
                     cudnn_fwd_ms=cudnn_f_ms, cudnn_ms=cudnn_ms, ratio=ours_ms / cudnn_ms,
                     finite=ok)
          rows.append(row)
          results["train_step"] = rows
          if json_path:  # after every shape: a run cut short keeps what it measured
            with open(json_path, "w") as f:
              json.dump(results, f, indent=1)
          if not ok:
            FAILURES.append(f"bench {cell} B{B} H{H} {dtype}: non-finite gradient")
          print(f"  {cell:5} {B:4d} {steps:4d} {features:4d} {H:4d} {row['dtype']:8} "
                f"{fwd_ms:8.3f} {bwd_ms:8.3f} {recompute_ms:8.3f} {bwd_slices_ms:8.3f} "
                f"{bwd_fast_ms:8.3f} "
                f"{bwd_persistent_ms:8.3f} "
                f"{bwd_per_step_ms:8.3f} {ours_ms:8.3f} "
                f"{cudnn_f_ms:8.3f} {cudnn_ms:8.3f} "
                f"{row['ratio']:6.2f}" + ("" if ok else "  NON-FINITE"), flush=True)
          del fwd, grad, m, x
  return rows


def use_portable():
  """Every call chooses as on a GPU of the portable class (harness.py --portable): the forward
  and the fast recompute; the gradient's own kernels plan for this GPU either way."""
  arch_file = os.path.join(os.path.dirname(os.environ.get("TM_LIB", LIB._name)), "libtm.arch")
  arch = open(arch_file).read().strip() if os.path.exists(arch_file) else "unknown"
  if arch != "compute_80":
    sys.exit(f"--portable needs a libtm.so built with ARCH=compute_80 (this one: {arch})")
  harness.PORTABLE = True
  harness.set_path("auto")
  print("path: portable (compute_80 code and the sm_80 kernel choice, timed on this GPU)")


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("mode", choices=["check", "bench"])
  parser.add_argument("--json")
  parser.add_argument("--bs", default="8,64,128")
  parser.add_argument("--hs", default="128,512")
  parser.add_argument("--quick", action="store_true",
                      help="bench: skip the split-K persistent and per-step gradient timings")
  parser.add_argument("--portable", action="store_true",
                      help="the forward (and the fast recompute) choose kernels as on compute "
                      "capability 8.0 (harness.py --portable; needs a compute_80 libtm.so)")
  args = parser.parse_args()
  if args.portable:
    use_portable()
  props = torch.cuda.get_device_properties(0)
  print(f"device: {props.name}, {props.multi_processor_count} SMs, torch {torch.__version__}, "
        f"cuDNN {torch.backends.cudnn.version()}, {time.strftime('%Y-%m-%d %H:%M:%S')}")
  results = dict(device=props.name, date=time.strftime("%Y-%m-%d"), torch=torch.__version__,
                 cudnn=torch.backends.cudnn.version())
  t0 = time.time()
  if args.mode == "check":
    results["check"] = check_suite()
  else:
    ints = lambda v: [int(x) for x in v.split(",")]
    bench(results, bs=ints(args.bs), hs=ints(args.hs), json_path=args.json, quick=args.quick)
  results["failures"] = FAILURES
  if args.json:
    with open(args.json, "w") as f:
      json.dump(results, f, indent=1)
  print(f"done in {time.time() - t0:.1f} s; failures: {len(FAILURES)}")
  for failure in FAILURES[:40]:
    print("  FAILED:", failure)
  sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
  main()
