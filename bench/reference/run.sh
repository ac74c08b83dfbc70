#!/usr/bin/env bash
# The GPT-2 124M reference configs (suites/reference.yaml): every precision, eager vs SDPA attention,
# checkpointing and torch.compile on one GPU.   bash bench/reference/run.sh [BUDGET_S]
DEFAULT_BUDGET=420
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/reference
tmo 400 python3 -m benchbench.cli run suites/reference.yaml -o /tmp/reference -q ${SMOKE:+--smoke}
keep_run /tmp/reference run
