#!/usr/bin/env bash
# Where a sweep's wall time goes: suites/amp.yaml on one GPU with the previous code (.ab/old, a copy of
# benchbench's package at the base commit) and with this checkout's, back to back.
#   SIDES="old new new old" bash bench/sweep-time/run.sh [BUDGET_S]
#   REPEATS=N: a copy of amp.yaml with repeats N (default: the suite's own)
#   rows: $Q_OUT/<side>.<k>/ (rows.jsonl, run.json: wall_s, measured_s); then python3 bench/sweep-time/analyze.py
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
suite=$PWD/suites/amp.yaml
if [ -n "${REPEATS:-}" ]; then sed "s/^  repeats: .*/  repeats: $REPEATS/" "$suite" > /tmp/amp.yaml; suite=/tmp/amp.yaml; fi
k=0
for side in ${SIDES:-old new}; do
  k=$((k + 1)); root=$PWD; [ "$side" = old ] && root=$PWD/.ab/old
  rm -rf "/tmp/st-$side.$k"
  (cd "$root" && PYTHONPATH=/tmp/site:$root tmo 300 python3 -m benchbench.cli run "$suite" -o "/tmp/st-$side.$k" -q --gpus 1)
  echo "amp.yaml, $side code ($k): exit $?"; keep_run "/tmp/st-$side.$k" "$side.$k"
done
exit 0
