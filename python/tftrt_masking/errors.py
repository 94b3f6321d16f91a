"""The errors a user can act on, shared by the library and the CLI.

Every error the package raises for bad input derives from UserError: its
message says what went wrong, with which path, and what to do. The CLI
(__main__.py) prints it as one line and exits non-zero; `--debug` adds the
traceback and `details` (e.g. a child process' log).
"""

from __future__ import annotations


class UserError(Exception):
  """Bad input or environment, described in the message. `details`: longer
  text (a log) that only `--debug` prints."""

  def __init__(self, message: str, details: str = ""):
    super().__init__(message)
    self.details = details


class RewriteError(UserError, ValueError):
  """The input cannot be rewritten (not a Keras model, a subclassed model, ...)."""


class ConversionError(UserError, RuntimeError):
  """The conversion could not be done (bad arguments, missing libraries)."""
