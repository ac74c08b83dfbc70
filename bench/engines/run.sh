#!/usr/bin/env bash
# DDP, FSDP2 and DeepSpeed at 1 and 2 GPUs (suites/parallel.yaml), then DDP alone (ddp_check.yaml).
#   bash bench/engines/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/engines/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=420
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/engines /tmp/ddp-check
tmo 300 python3 -m benchbench.cli run suites/parallel.yaml -o /tmp/engines -q ${SMOKE:+--smoke}; keep_run /tmp/engines run
tmo 100 python3 -m benchbench.cli run bench/engines/ddp_check.yaml -o /tmp/ddp-check -q ${SMOKE:+--smoke}; keep_run /tmp/ddp-check ddp
