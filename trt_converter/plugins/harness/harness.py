"""GPU harness of the TensorRT plugins against the NumPy reference.

For every case: random inputs (NumPy) -> pluginHarness (creates the plugin
through its creator, checks shape/type/format answers, configures it with
dynamic batch/time, serializes + deserializes it and enqueues the copy on the
GPU) -> outputs compared with python/tftrt_masking/reference.py computed in
float64 from the same (rounded) inputs. Needs only NumPy and a GPU; no
TensorRT, no TensorFlow.

  python3 harness.py --binary BUILD/pluginHarness [--sanitizer] [--work DIR]

--sanitizer also runs every case under compute-sanitizer (memcheck, and
racecheck on a subset) and requires "ERROR SUMMARY: 0 errors".
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python" / "tftrt_masking"))
import reference  # noqa: E402  pylint: disable=wrong-import-position,import-error

CELLS = {"lstm": 0, "gru": 1, "simple_rnn": 2}
ACTIVATIONS = {name: i for i, name in enumerate(reference.ACTIVATIONS)}
# float64 reference vs the kernel: fp32 accumulates in fp32; fp16 stores fp16 between steps.
TOLERANCE = {"float32": 2e-4, "float16": 2e-2}


def write_case(directory: Path, plugin: str, dtype: str, int_fields: dict, float_fields: dict,
               inputs: list) -> None:
  directory.mkdir(parents=True, exist_ok=True)
  lines = [f"plugin {plugin}", f"dtype {dtype}"]
  lines += [f"int {k} {int(v)}" for k, v in int_fields.items()]
  lines += [f"float {k} {float(v)!r}" for k, v in float_fields.items()]
  for index, (name, array) in enumerate(inputs):
    lines.append(f"input {name} {array.ndim} " + " ".join(str(d) for d in array.shape))
    np.ascontiguousarray(array).tofile(directory / f"in_{index}.bin")
  (directory / "case.txt").write_text("\n".join(lines) + "\n")


def read_outputs(directory: Path) -> list:
  outputs = []
  for index in itertools.count():
    shape_file = directory / f"out_{index}.shape"
    if not shape_file.exists():
      return outputs
    *dims, dtype = shape_file.read_text().split()
    data = np.fromfile(directory / f"out_{index}.bin", dtype=dtype)
    outputs.append(data.reshape([int(d) for d in dims]))


def masking_cases(rng):
  for dtype, mode, mask_value, shape in itertools.product(
      ("float32", "float16"), ("where", "multiply"), (0.0, 0.5, -1.0),
      ((4, 9, 8), (3, 5, 2, 16), (64, 100, 33))):
    x = rng.standard_normal(shape).astype(dtype)
    rows = x.reshape(-1, shape[-1])
    rows[rng.random(rows.shape[0]) < 0.3] = dtype_value(mask_value, dtype)  # masked rows
    rows[1, :] = dtype_value(mask_value, dtype)
    if shape[-1] > 1:  # a row equal to mask_value except one element: kept
      rows[2, :] = dtype_value(mask_value, dtype)
      rows[2, -1] = 1.0
    if mask_value == -1.0:  # -0.0 and NaN stay distinguishable in 'multiply'
      rows[3, 0] = np.nan
    name = f"masking_{dtype}_{mode}_{mask_value}_{'x'.join(map(str, shape))}"
    yield name, dict(plugin="Masking", dtype=dtype,
                     int_fields={"output_mode": 0 if mode == "where" else 1,
                                 "element_type": 0 if dtype == "float32" else 1},
                     float_fields={"mask_value": mask_value}, inputs=[("x", x)],
                     check=lambda outs, x=x, mv=mask_value, mode=mode: check_masking(outs, x, mv, mode))


def dtype_value(value, dtype):
  return np.asarray(value, dtype=dtype)


def check_masking(outputs, x, mask_value, mode):
  want_out, want_mask = reference.masking(x, mask_value, mode)
  out, mask = outputs
  if out.shape != want_out.shape or mask.shape != want_mask.shape:
    return f"shapes {out.shape}/{mask.shape}, expected {want_out.shape}/{want_mask.shape}"
  if not np.array_equal(mask, want_mask.astype(np.int32)):
    return f"mask differs at {np.argwhere(mask != want_mask)[:5].tolist()}"
  # Bit for bit (the sign of -0.0 included); NaNs only by position, since the GPU
  # returns the canonical NaN for NaN * 1 where x86 keeps the payload.
  nan = np.isnan(want_out)
  if not np.array_equal(np.isnan(out), nan):
    return "NaN positions differ from the reference"
  bits = np.uint16 if out.dtype == np.float16 else np.uint32
  differs = out.view(bits)[~nan] != want_out.view(bits)[~nan]
  if np.any(differs):
    return f"{int(differs.sum())} output elements differ bitwise from the reference"
  return None


def rnn_cases(rng):
  configs = []
  for cell in CELLS:
    for dtype in ("float32", "float16"):
      for return_sequences, go_backwards in ((False, False), (True, False), (True, True)):
        configs.append(dict(cell=cell, dtype=dtype, return_sequences=return_sequences,
                            go_backwards=go_backwards, zero_output_for_mask=go_backwards,
                            use_bias=True, reset_after=True, sizes=(5, 7, 6, 16)))
  configs += [
      dict(cell="gru", dtype="float32", reset_after=False, use_bias=True, sizes=(3, 6, 4, 8)),
      dict(cell="lstm", dtype="float32", use_bias=False, sizes=(2, 5, 3, 8)),
      dict(cell="lstm", dtype="float32", activation="relu", recurrent_activation="hard_sigmoid",
           sizes=(4, 6, 5, 12)),
      dict(cell="simple_rnn", dtype="float32", activation="linear", sizes=(2, 4, 3, 4)),
      dict(cell="lstm", dtype="float32", return_sequences=True, sizes=(64, 50, 32, 128)),
      dict(cell="lstm", dtype="float16", return_sequences=True, sizes=(64, 50, 32, 128)),
      dict(cell="gru", dtype="float32", sizes=(32, 40, 16, 64)),
      dict(cell="lstm", dtype="float32", sizes=(1, 1, 1, 1)),
      # The tensor-core row-group kernel (fp16 LSTM/GRU, 65-512 units): 8-block
      # and 16-block clusters, padded units, go_backwards. Recurrent weights at
      # Keras' scale (1/sqrt(units)): at 0.5 these sizes are chaotic and even the
      # fp32 simple path misses float64 by 0.04 (GRU) / 0.17 (LSTM) (measured).
      dict(cell="gru", dtype="float16", return_sequences=True, go_backwards=True,
           zero_output_for_mask=True, sizes=(12, 30, 8, 200), recurrent_scale=200 ** -0.5),
      dict(cell="lstm", dtype="float16", sizes=(20, 25, 16, 512), recurrent_scale=512 ** -0.5),
  ]
  for index, config in enumerate(configs):
    yield make_rnn_case(rng, index, **config)


def make_rnn_case(rng, index, cell, dtype, sizes, return_sequences=False, go_backwards=False,
                  zero_output_for_mask=False, use_bias=True, reset_after=True,
                  activation="tanh", recurrent_activation="sigmoid", recurrent_scale=0.5):
  batch, steps, features, units = sizes
  gates = reference.GATES[cell] * units
  def randn(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(dtype)
  x = randn(batch, steps, features, scale=1.0)
  mask = rng.random((batch, steps)) < 0.75
  mask[0, :] = False  # a fully masked sequence keeps its initial state
  if steps > 2:
    mask[-1, 1] = False
  kernel = randn(features, gates)
  recurrent_kernel = randn(units, gates, scale=recurrent_scale)
  bias = None
  if use_bias:
    bias = randn(2, gates) if cell == "gru" and reset_after else randn(gates)
  states = [randn(batch, units)] + ([randn(batch, units)] if cell == "lstm" else [])
  inputs = [("x", x), ("mask", mask.astype(np.int32)), ("kernel", kernel),
            ("recurrent_kernel", recurrent_kernel)]
  if use_bias:
    inputs.append(("bias", bias))
  inputs.append(("initial_h", states[0]))
  if cell == "lstm":
    inputs.append(("initial_c", states[1]))
  fields = {"cell": CELLS[cell], "units": units, "input_size": features,
            "activation": ACTIVATIONS[activation],
            "recurrent_activation": ACTIVATIONS[recurrent_activation],
            "use_bias": use_bias, "reset_after": reset_after, "go_backwards": go_backwards,
            "return_sequences": return_sequences, "zero_output_for_mask": zero_output_for_mask}

  def check(outputs):
    f64 = lambda a: None if a is None else a.astype(np.float64)  # noqa: E731
    want_out, want_states = reference.masked_rnn(
        cell, f64(x), mask, f64(kernel), f64(recurrent_kernel), f64(bias),
        [f64(s) for s in states], activation_name=activation,
        recurrent_activation=recurrent_activation, go_backwards=go_backwards,
        return_sequences=return_sequences, zero_output_for_mask=zero_output_for_mask,
        reset_after=reset_after)
    wanted = [want_out, *want_states]
    if len(outputs) != len(wanted):
      return f"{len(outputs)} outputs, expected {len(wanted)}"
    worst = 0.0
    for name, got, want in zip(("output", "final_h", "final_c"), outputs, wanted):
      if got.shape != want.shape:
        return f"{name} shape {got.shape}, expected {want.shape}"
      if not np.all(np.isfinite(got)):
        return f"{name} has non-finite values"
      error = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
      worst = max(worst, error)
      if error > TOLERANCE[dtype] * max(1.0, float(np.max(np.abs(want))) if want.size else 1.0):
        return f"{name} max abs error {error:.3g} > {TOLERANCE[dtype]}"
    # The state of the fully masked sequence 0 must be its initial state, bit for bit.
    for name, got, initial in zip(("final_h", "final_c"), outputs[1:], states):
      if not np.array_equal(got[0], initial[0]):
        return f"{name} of the fully masked sequence is not its initial state"
    return f"ok (max abs error {worst:.2e})"

  name = (f"rnn{index:02d}_{cell}_{dtype}_b{batch}t{steps}f{features}u{units}"
          f"{'_seq' if return_sequences else ''}{'_back' if go_backwards else ''}"
          f"{'' if use_bias else '_nobias'}{'' if reset_after else '_resetbefore'}"
          f"{'' if activation == 'tanh' else '_' + activation}")
  return name, dict(plugin="MaskedRnn", dtype=dtype, int_fields=fields, float_fields={},
                    inputs=inputs, check=check)


def run_tool(command, timeout=300):
  done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
  return done.returncode, done.stdout + done.stderr


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--binary", required=True)
  parser.add_argument("--work", default=None)
  parser.add_argument("--sanitizer", action="store_true")
  parser.add_argument("--sanitizer-binary", default="compute-sanitizer")
  parser.add_argument("--sanitizer-budget", type=float, default=300.0,
                      help="seconds after which remaining sanitizer runs are skipped")
  args = parser.parse_args(argv)
  work = Path(args.work or tempfile.mkdtemp(prefix="plugin_harness_"))
  rng = np.random.default_rng(20261121)
  failures = 0
  results = []
  started = time.time()
  cases = list(masking_cases(rng)) + list(rnn_cases(rng))
  for index, (name, case) in enumerate(cases):
    directory = work / name
    if directory.exists():
      shutil.rmtree(directory)
    write_case(directory, case["plugin"], case["dtype"], case["int_fields"], case["float_fields"],
               case["inputs"])
    start = time.time()
    code, log = run_tool([args.binary, str(directory)])
    verdict = f"harness exit {code}: {log.strip()[-300:]}" if code != 0 else None
    if verdict is None:
      message = case["check"](read_outputs(directory))
      verdict = None if message is None or message.startswith("ok") else message
      detail = message or "ok (bit-exact)"
    sanitizer = ""
    small = sum(array.size for _, array in case["inputs"]) < 20000
    if args.sanitizer and verdict is None and time.time() - started > args.sanitizer_budget:
      sanitizer = " sanitizer:skipped(budget)"
    elif args.sanitizer and verdict is None:
      tools = ["memcheck"] + (["racecheck"] if small and index % 3 == 0 else [])
      for tool in tools:
        code, log = run_tool([args.sanitizer_binary, "--tool", tool, "--error-exitcode", "9",
                              args.binary, str(directory)], timeout=600)
        clean = code == 0 and ("ERROR SUMMARY: 0 errors" in log or
                               "RACECHECK SUMMARY: 0 hazards displayed (0 errors" in log)
        sanitizer += f" {tool}:{'clean' if clean else 'ERRORS'}"
        if not clean:
          verdict = f"{tool}: {log.strip()[-400:]}"
    status = "PASS" if verdict is None else "FAIL"
    failures += verdict is not None
    line = f"{status} {name} [{time.time() - start:.1f}s]{sanitizer}: {verdict or detail}"
    results.append(line)
    print(line, flush=True)
  print(f"\n{len(cases) - failures}/{len(cases)} cases passed")
  return 0 if failures == 0 else 1


if __name__ == "__main__":
  sys.exit(main())
