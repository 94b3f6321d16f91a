#!/usr/bin/env bash
# Keras' and tf_keras' own layer test files, ALL of their tests, against our
# layers (tests/keras_suites/README.md). CI (`bazel test //tests/keras_suites:...`)
# runs the Keras 3 files and the tf_keras tests about masks; this runs the rest
# too (about 25 minutes on 2 cores). Needs the op library built
# (`bazel build //tf_ops:_tftrt_masking_ops.so`). Extra arguments go to pytest,
# e.g. --junitxml=build/keras_suites.xml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH=python exec .venv/bin/python tests/keras_suites/run_suites.py --full "$@"
