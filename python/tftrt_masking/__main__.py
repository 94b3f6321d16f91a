"""Command line: python -m tftrt_masking <command> ...

Each command lives in its own module, which provides register_cli(subparsers):
it adds its parser and sets `func` (a callable taking the parsed args and
returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = [
    "tftrt_masking.example",
    "tftrt_masking.rewrite",
    "tftrt_masking.conversion",
    "tftrt_masking.segments",
]


def main(argv=None) -> int:
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  parser = argparse.ArgumentParser(prog="python -m tftrt_masking", description=__doc__)
  subparsers = parser.add_subparsers(dest="command", required=True)
  for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register_cli(subparsers)
  args = parser.parse_args(argv)
  return args.func(args)


if __name__ == "__main__":
  sys.exit(main())
