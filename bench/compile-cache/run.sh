#!/usr/bin/env bash
# A compiled config, 3 repeats, with shared compiler caches and with cold ones.   bash bench/compile-cache/run.sh
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/cc-shared /tmp/cc-cold
tmo 150 python3 -m benchbench.cli run bench/compile-cache/suite.yaml -o /tmp/cc-shared -q --gpus 1 ${SMOKE:+--smoke}; keep_run /tmp/cc-shared shared
tmo 150 python3 -m benchbench.cli run bench/compile-cache/cold.yaml -o /tmp/cc-cold -q --gpus 1 ${SMOKE:+--smoke}; keep_run /tmp/cc-cold cold
python3 bench/compile-cache/analyze.py /tmp/cc-shared /tmp/cc-cold
