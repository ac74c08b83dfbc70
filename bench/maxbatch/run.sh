#!/usr/bin/env bash
# The largest micro-batch per config (benchbench maxbatch), every probe a row.
#   bash bench/maxbatch/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/maxbatch/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/maxbatch && tmo 540 python3 -m benchbench.cli maxbatch bench/maxbatch/suite.yaml -o /tmp/maxbatch
keep_run /tmp/maxbatch run
