#!/usr/bin/env bash
# The memory model against measured peaks: SUITE=bench/memory-model/suite_2gpu.yaml for two GPUs.
#   bash bench/memory-model/run.sh [BUDGET_S]     rows: $Q_OUT/<run>/ ; then: python bench/memory-model/analyze.py (on the unpacked rows)
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/memmodel && tmo 540 python3 -m benchbench.cli run ${SUITE:-bench/memory-model/suite_1gpu.yaml} -o /tmp/memmodel -q --gpus 1 ${SMOKE:+--smoke}
keep_run /tmp/memmodel run
