#!/usr/bin/env bash
# What each ZeRO stage holds per GPU (suites/zero.yaml on 1 or 2 GPUs), then the bucket/offload variants.
#   bash bench/zero/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/zero/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/zero /tmp/zero-variants
tmo 300 python3 -m benchbench.cli run suites/zero.yaml -o /tmp/zero -q --gpus 1 ${SMOKE:+--smoke}; keep_run /tmp/zero run
tmo 240 python3 -m benchbench.cli run bench/zero/zero_variants.yaml -o /tmp/zero-variants -q --gpus 1 ${SMOKE:+--smoke}; keep_run /tmp/zero-variants variants
