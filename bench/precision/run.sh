#!/usr/bin/env bash
# What precision, attention and checkpointing buy GPT-2 124M on one GPU, profiled (the report example).
#   bash bench/precision/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/precision/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/precision && tmo 540 python3 -m benchbench.cli run bench/precision/suite.yaml -o /tmp/precision -q --gpus 1 ${SMOKE:+--smoke}
keep_run /tmp/precision run && python3 -m benchbench.cli report /tmp/precision -o "$Q_OUT/report.html"
