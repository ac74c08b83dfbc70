#!/usr/bin/env bash
# The numerics check of every precision against the fp32 reference.
#   bash bench/numerics/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/numerics/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/numerics && tmo 280 python3 -m benchbench.cli run bench/numerics/suite.yaml -o /tmp/numerics -q --gpus 1 ${SMOKE:+--smoke}
keep_run /tmp/numerics run
