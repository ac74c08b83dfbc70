#!/usr/bin/env bash
# The Llama reference on one GPU: speed, MFU and the memory model against measured peaks.
#   bash bench/llama-bf16/run.sh [BUDGET_S]     rows: $Q_OUT/run/ ; then: python bench/llama-bf16/analyze.py (on the unpacked rows)
#   SMOKE=1 NO_WHEELS=1 bash bench/llama-bf16/run.sh   the script on a CPU, every config tiny
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/llama-bf16 && tmo 540 python3 -m benchbench.cli run bench/llama-bf16/suite.yaml -o /tmp/llama-bf16 -q --gpus 1 ${SMOKE:+--smoke}
keep_run /tmp/llama-bf16 run
python3 bench/llama-bf16/analyze.py "$Q_OUT/run"
