"""Runs Keras' and tf_keras' own layer tests against our layers (swap_layers.py).

Keras 3: the test files its package installs (keras/src/layers/...), so they
match the installed Keras. tf_keras: the files vendored in tf_keras_v2_17_0/ (its wheel
ships none; README.md says where they come from).

  run_suites.py          the CI part (Bazel //tests/keras_suites:keras_suites_test):
                         every Keras 3 file, and the tf_keras tests about masks
  run_suites.py --full   every test of every file (scripts/test_keras_suites.sh)

Extra arguments go to pytest. Tests that fail for a documented reason are
marked xfail(strict) with that reason in swap_layers.EXPECTED_FAILURES.
"""

import os
import sys
from pathlib import Path

import pytest

# Not resolve(): under `bazel test` the files vendored are the runfiles copies.
HERE = Path(os.path.abspath(__file__)).parent
KERAS3_FILES = ("core/masking_test.py", "rnn/lstm_test.py", "rnn/gru_test.py",
                "rnn/simple_rnn_test.py", "rnn/bidirectional_test.py", "rnn/rnn_test.py")
TF_KERAS_FILES = ("core_test.py", "lstm_test.py", "gru_test.py", "simple_rnn_test.py",
                  "bidirectional_test.py", "base_rnn_test.py", "time_distributed_test.py")


def keras3_test_files():
  import keras  # pylint: disable=import-outside-toplevel

  layers_dir = Path(keras.__file__).resolve().parent / "src" / "layers"
  return [str(layers_dir / name) for name in KERAS3_FILES]


def main(argv):
  full = "--full" in argv
  argv = [a for a in argv if a != "--full"]
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  sys.path.insert(0, str(HERE))
  args = ["-q", "-p", "no:cacheprovider", "-p", "swap_layers", "-rfEx",
          "--rootdir", str(HERE)]
  if os.environ.get("XML_OUTPUT_FILE"):
    args.append(f"--junitxml={os.environ['XML_OUTPUT_FILE']}")
  if not full:
    args.append("--tf-keras-mask-tests-only")
  tf_keras_files = [str(HERE / "tf_keras_v2_17_0" / name) for name in TF_KERAS_FILES]
  return pytest.main(args + argv + keras3_test_files() + tf_keras_files)


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
