#!/usr/bin/env bash
# Tensor parallelism at 1, 2 and 4 GPUs and pipelines of 2 and 4 stages under each schedule (suite.yaml):
# throughput, memory of every rank, predicted and measured bubble. 4-GPU configs skip on 2 GPUs.
#   bash bench/parallelism/run.sh [BUDGET_S]     rows: $Q_OUT/run/ ; then: python bench/parallelism/analyze.py DIR
DEFAULT_BUDGET=420
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/parallelism
tmo 400 python3 -m benchbench.cli run bench/parallelism/suite.yaml -o /tmp/parallelism -q ${SMOKE:+--smoke}
keep_run /tmp/parallelism run
