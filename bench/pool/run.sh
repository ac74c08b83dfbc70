#!/usr/bin/env bash
# The same suite with --gpus 1 and --gpus all, back to back; then compare the two runs.
#   bash bench/pool/run.sh [BUDGET_S]       rows: $Q_OUT/{sequential,pool}/ ; $Q_OUT/compare.md
DEFAULT_BUDGET=420
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/pool-seq /tmp/pool-all
tmo 330 python3 -m benchbench.cli run bench/pool/suite.yaml -o /tmp/pool-seq -q ${SMOKE:+--smoke} --gpus 1; keep_run /tmp/pool-seq sequential
tmo 150 python3 -m benchbench.cli run bench/pool/suite.yaml -o /tmp/pool-all -q ${SMOKE:+--smoke} --gpus all; keep_run /tmp/pool-all pool
python3 -m benchbench.cli compare /tmp/pool-seq /tmp/pool-all --markdown "$Q_OUT/compare.md"
python3 bench/pool/analyze.py /tmp/pool-seq /tmp/pool-all
