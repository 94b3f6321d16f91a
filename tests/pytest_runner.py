"""Entry point of every pytest_test target (build_defs/pytest.bzl)."""

import os
import sys

import pytest

if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  args = ["-q", "-p", "no:cacheprovider", "-rs"]
  if os.environ.get("XML_OUTPUT_FILE"):
    args.append(f"--junitxml={os.environ['XML_OUTPUT_FILE']}")
  sys.exit(pytest.main(args + sys.argv[1:]))
