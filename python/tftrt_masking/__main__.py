"""Command line: python -m tftrt_masking <command> ...

Each command lives in its own module, which provides register_cli(subparsers):
it adds its parser and sets `func` (a callable taking the parsed args and
returning an exit code). Commands raise on failure; main() is the one place
that turns an error into one readable line on stderr and a non-zero exit
code (`--debug`: the traceback and any details too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import traceback

from tftrt_masking.errors import UserError

COMMAND_MODULES = [
    "tftrt_masking.example",
    "tftrt_masking.rewrite",
    "tftrt_masking.conversion",
    "tftrt_masking.segments",
]

EXIT_FAILED = 1  # the command ran and failed (e.g. nothing converted, an unexpected error)
EXIT_USER_ERROR = 2  # bad arguments or input: the message says what to change (as argparse)
EXIT_INTERRUPTED = 130
MAX_MESSAGE_CHARS = 600


_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # Keras bolds parts of its messages


def one_line(text: str) -> str:
  """A message as one line: its lines joined with '; ', cut at MAX_MESSAGE_CHARS."""
  text = _TERMINAL_CODES.sub("", str(text))
  line = "; ".join(part.strip() for part in text.splitlines() if part.strip())
  if len(line) > MAX_MESSAGE_CHARS:
    line = line[:MAX_MESSAGE_CHARS] + "... (--debug shows all of it)"
  return line


def error_line(command: str, error: BaseException) -> tuple:
  """(exit code, the line to print) for an error that ended `command`."""
  if isinstance(error, KeyboardInterrupt):
    return EXIT_INTERRUPTED, f"{command}: interrupted"
  if isinstance(error, UserError):
    message = one_line(error)
    # Library messages may already name the command.
    if message.startswith(f"{command}: "):
      message = message[len(command) + 2:]
    return EXIT_USER_ERROR, f"{command}: {message}"
  if isinstance(error, OSError):
    where = f" {error.filename}" if error.filename else ""
    return EXIT_USER_ERROR, (f"{command}: cannot access{where}: "
                             f"{error.strerror or one_line(error)}")
  if isinstance(error, MemoryError):
    return EXIT_FAILED, f"{command}: out of memory"
  return EXIT_FAILED, (f"{command}: failed with {type(error).__name__}: {one_line(error)} "
                       "(unexpected: --debug shows the traceback; please report it)")


def _add_debug_flag(parser: argparse.ArgumentParser) -> None:
  parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                      help="on failure, print the traceback (and details such as a "
                      "child process' log) as well as the one-line message")


def main(argv=None) -> int:
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  parser = argparse.ArgumentParser(prog="python -m tftrt_masking", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  _add_debug_flag(parser)
  subparsers = parser.add_subparsers(dest="command", required=True)
  for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register_cli(subparsers)
  for subparser in subparsers.choices.values():
    _add_debug_flag(subparser)
  args = parser.parse_args(argv)
  debug = getattr(args, "debug", False)
  try:
    return args.func(args)
  except (Exception, KeyboardInterrupt) as e:  # pylint: disable=broad-except
    code, line = error_line(args.command, e)
    if debug:
      traceback.print_exc()
      details = getattr(e, "details", "")
      if details:
        print(f"--- details ---\n{details}\n---", file=sys.stderr)
    print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
  sys.exit(main())
