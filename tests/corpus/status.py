"""Runs the whole corpus once and prints a table: model, format, rewrite ok?,
outputs equal to Keras?, number of TensorRT engines, and the op types left in
TensorFlow beside the signature's inputs and outputs.

  .venv/bin/python tests/corpus/status.py                 # everything, one process
  .venv/bin/python tests/corpus/status.py --jobs 2        # two worker processes
  .venv/bin/python tests/corpus/status.py --models addition_rnn,lstm_seq2seq \
      --formats keras3_file --verbose                     # with the failure details

Run from the repository root (the package comes from python/, the libraries
from bazel-bin/ or $TFTRT_MASKING_LIB_DIR). The engine count needs the
converter library (TensorRT headers at configure time); without it the
engines column says "n/a".
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
sys.path.insert(1, str(_HERE.parent.parent / "python"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import harness  # pylint: disable=wrong-import-position


def _run(args) -> list:
  selected = harness.cases(args.formats, args.models)
  if args.shard:
    index, count = (int(part) for part in args.shard.split("/"))
    selected = selected[index::count]
  results = []
  with tempfile.TemporaryDirectory(prefix="corpus_status_") as scratch:
    for number, (entry, fmt) in enumerate(selected):
      directory = Path(scratch) / f"{number:03d}_{harness.case_id(entry, fmt)}"
      try:
        result = harness.run_case(entry, fmt, directory, segments=not args.no_segments)
      except Exception as e:  # pylint: disable=broad-except
        result = harness.CaseResult(entry.name, fmt, log=f"harness raised {type(e).__name__}: {e}")
      results.append(result)
      if args.json_out:  # after every case: a killed run keeps what it did
        Path(args.json_out).write_text(json.dumps([r.__dict__ for r in results]))
      print(f"  [{args.shard or '0/1'} {number + 1}/{len(selected)}] {entry.name} {fmt}: "
            f"{result.seconds:.0f}s", file=sys.stderr, flush=True)
  return results


def _run_parallel(args) -> list:
  """--jobs N: N child processes, each with a shard of the cases."""
  children = []
  with tempfile.TemporaryDirectory(prefix="corpus_status_jobs_") as scratch:
    for index in range(args.jobs):
      out = Path(scratch) / f"{index}.json"
      command = [sys.executable, __file__, "--shard", f"{index}/{args.jobs}", "--json-out",
                 str(out), "--formats", *args.formats]
      if args.models:
        command += ["--models", ",".join(args.models)]
      if args.no_segments:
        command.append("--no-segments")
      children.append((subprocess.Popen(command), out))
    results = []
    for child, out in children:
      child.wait()
      if out.is_file():
        results += [harness.CaseResult(**row) for row in json.loads(out.read_text())]
  order = {harness.case_id(e, f): i for i, (e, f) in enumerate(harness.cases())}
  return sorted(results, key=lambda r: order.get(f"{r.model}-{r.fmt}", 0))


def _yes_no(flag: bool, known: bool = True) -> str:
  return ("yes" if flag else "NO") if known else "-"


def table(results) -> str:
  rows = [("model", "format", "rewrite", "outputs", "engines", "left in TensorFlow")]
  for r in results:
    engines = str(r.engines) if r.engines >= 0 else (
        "failed" if r.left.startswith("segments failed") else "n/a")
    rows.append((r.model, r.fmt, _yes_no(r.rewrite_ok), _yes_no(r.outputs_ok, r.rewrite_ok),
                 engines if r.rewrite_ok else "-", r.left or "-"))
  widths = [max(len(row[i]) for row in rows) for i in range(5)]
  lines = []
  for i, row in enumerate(rows):
    lines.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " | " + row[5]
                 + " |")
    if i == 0:
      lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|" + "-" * 20 + "|")
  return "\n".join(lines)


def one_engine(result) -> bool:
  return result.rewrite_ok and result.outputs_ok and result.engines == 1 and result.left == "-"


def summary(results) -> str:
  by_model = {}
  for r in results:
    by_model.setdefault(r.model, []).append(one_engine(r))
  models_ok = sum(all(flags) for flags in by_model.values())
  lines = [
      f"cases: {len(results)}; rewrite ok: {sum(r.rewrite_ok for r in results)}; outputs equal: "
      f"{sum(r.outputs_ok for r in results)}; ONE engine and nothing else in TensorFlow (with "
      f"equal outputs): {sum(one_engine(r) for r in results)}",
      f"models in ONE engine in every format: {models_ok} of {len(by_model)}",
  ]
  if any(r.engines < 0 and r.rewrite_ok and not r.left for r in results):
    lines.append("(engine counts n/a: converter library not built or --no-segments)")
  return "\n".join(lines)


def _commit() -> str:
  try:
    return subprocess.run(["git", "-C", str(_HERE), "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True, check=False).stdout.strip()
  except OSError:
    return "?"


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--models", type=lambda s: [m for m in s.split(",") if m],
                      help="comma-separated corpus model names (default: all)")
  parser.add_argument("--formats", nargs="+", choices=harness.FORMATS,
                      default=list(harness.FORMATS))
  parser.add_argument("--jobs", type=int, default=1, help="worker processes")
  parser.add_argument("--no-segments", action="store_true", help="skip the segment report")
  parser.add_argument("--verbose", action="store_true",
                      help="print the rewrite log and output differences of failing cases")
  parser.add_argument("--shard", help=argparse.SUPPRESS)
  parser.add_argument("--json-out", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  unknown = [m for m in args.models or [] if m not in harness.models.BY_NAME]
  if unknown:
    parser.error(f"unknown model(s) {unknown}; the corpus has {sorted(harness.models.BY_NAME)}")
  started = datetime.datetime.now(datetime.timezone.utc)
  results = _run_parallel(args) if args.jobs > 1 and not args.shard else _run(args)
  if args.json_out:
    return 0
  seconds = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
  print(f"Corpus status {started:%Y-%m-%d %H:%M} UTC, commit {_commit()}, {seconds:.0f} s "
        f"({args.jobs} job(s))")
  print(table(results))
  print(summary(results))
  if args.verbose:
    for r in results:
      if r.output_problems or not r.rewrite_ok:
        print(f"\n=== {r.model} {r.fmt}")
        for problem in r.output_problems:
          print(f"  outputs: {problem}")
        if not r.rewrite_ok:
          print("  " + r.log.replace("\n", "\n  "))
  return 0


if __name__ == "__main__":
  sys.exit(main())
