#!/usr/bin/env bash
# The same configs with a fixed 30 measured steps and with measured_steps: auto; then compare them.
#   bash bench/auto-steps/run.sh [BUDGET_S]      rows: $Q_OUT/{fixed,auto}/
DEFAULT_BUDGET=240
. "$(dirname "$0")/../device_env.sh"
rm -rf /tmp/steps-fixed /tmp/steps-auto
tmo 200 python3 -m benchbench.cli run bench/auto-steps/fixed.yaml -o /tmp/steps-fixed -q ${SMOKE:+--smoke}; keep_run /tmp/steps-fixed fixed
tmo 200 python3 -m benchbench.cli run bench/auto-steps/suite.yaml -o /tmp/steps-auto -q ${SMOKE:+--smoke}; keep_run /tmp/steps-auto auto
python3 bench/auto-steps/analyze.py /tmp/steps-fixed /tmp/steps-auto
