#!/usr/bin/env bash
# The Llama reference on one GPU: speed, MFU and the memory model against measured peaks.
#   bash bench/llama/run.sh [BUDGET_S]     rows: $Q_OUT/run/ ; then: python bench/llama/analyze.py (on the unpacked rows)
#   SMOKE=1 NO_WHEELS=1 bash bench/llama/run.sh   the script on a CPU, every config tiny
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/llama && tmo 540 python3 -m benchbench.cli run bench/llama/suite.yaml -o /tmp/llama -q --gpus 1 ${SMOKE:+--smoke}
keep_run /tmp/llama run
python3 bench/llama/analyze.py "$Q_OUT/run"
