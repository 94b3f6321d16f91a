#!/usr/bin/env python3
"""Counts test cases over every `bazel test` target and prints one summary line.

Reads each target's JUnit XML (pytest and gtest write it where Bazel asks; a
run outside Bazel, such as scripts/test_wheel.sh, names its own with --xml); a
target that failed without a failing case in its XML (a crash, a timeout)
counts as one failure. Last line: "tests: N passed, N failed, N skipped".
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count_cases(xml_path: Path):
  passed = failed = skipped = 0
  for case in ET.parse(xml_path).iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
      failed += 1
    elif case.find("skipped") is not None or case.get("status") == "notrun":
      skipped += 1
    else:
      passed += 1
  return passed, failed, skipped


def parse_args(args):
  """TARGET=STATUS ... [--xml NAME=PATH ...]: Bazel targets (their XML is under
  bazel-testlogs) and runs outside Bazel (NAME=STATUS with the XML they wrote)."""
  results, xml_paths = {}, {}
  args = list(args)
  while args:
    arg = args.pop(0)
    if arg == "--xml":
      name, path = args.pop(0).split("=", 1)
      xml_paths[name] = Path(path)
    else:
      target, status = arg.rsplit("=", 1)  # target=PASSED|FAILED|...
      results[target] = status
  return results, xml_paths


def main(argv) -> int:
  results, xml_paths = parse_args(argv[1:])
  if not results:
    out = subprocess.run(["bazel", "query", "tests(//...)"], capture_output=True, text=True)
    results = {t: "UNKNOWN" for t in out.stdout.split()}
  testlogs = Path("bazel-testlogs")
  totals = [0, 0, 0]
  for target, status in sorted(results.items()):
    if target in xml_paths:
      xml_path = xml_paths[target]
    else:
      package, name = target.lstrip("/").split(":")
      xml_path = testlogs / package / name / "test.xml"
    counts = count_cases(xml_path) if xml_path.exists() else (0, 0, 0)
    if status not in ("PASSED", "UNKNOWN") and counts[1] == 0:
      counts = (counts[0], 1, counts[2])
    print(f"  {target:55s} {counts[0]:4d} passed {counts[1]:3d} failed {counts[2]:3d} skipped")
    totals = [a + b for a, b in zip(totals, counts)]
  print(f"tests: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
  return 1 if totals[1] else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
