#!/usr/bin/env bash
# What the collectors cost and see on a GPU: collector overhead, then the profiler/py-spy/backends suite.
#   bash bench/collectors/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/collectors/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
tmo 120 python3 bench/collectors/collector_overhead.py --size 124m --batch 16 --rounds 3 --steps 40 | tee "$Q_OUT/collector_overhead.txt"
rm -rf /tmp/collectors && tmo 170 python3 -m benchbench.cli run bench/collectors/suite.yaml -o /tmp/collectors -q --gpus 1 ${SMOKE:+--smoke}; keep_run /tmp/collectors run
