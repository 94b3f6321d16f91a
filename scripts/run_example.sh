#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the main job: the seed example
# (python -m tftrt_masking seed). Extra arguments go to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHONPATH=python TF_CPP_MIN_LOG_LEVEL=2 exec .venv/bin/python -m tftrt_masking seed "$@"
