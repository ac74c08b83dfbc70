#!/usr/bin/env bash
# The gpu-marked tests (skipped on a CPU), on a GPU machine: their output goes to $Q_OUT/pytest-gpu.txt.
DEFAULT_BUDGET=150
. "$(dirname "$0")/../device_env.sh"
tmo 140 python3 -m pytest -m gpu -q -p no:cacheprovider tests/unit 2>&1 | tail -30 | tee "$Q_OUT/pytest-gpu.txt"
