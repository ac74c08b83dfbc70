#!/usr/bin/env bash
# Where a sweep's wall time goes: suites/amp.yaml on one GPU with the previous code (.ab/old: benchbench's
# package and suites/amp.yaml at the commit before the zygote and warmup_steps: auto) and this checkout's.
#   SIDES="old new new old" bash bench/sweep-time/run.sh [BUDGET_S]
#   REPEATS=N: a copy of amp.yaml with repeats N (default: the suite's own)
#   rows: $Q_OUT/<side>.<k>/ (rows.jsonl, run.json: wall_s, measured_s; command.json: the command's own wall
#   time, start and end included); then python3 bench/sweep-time/analyze.py
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
k=0
for side in ${SIDES:-old new}; do
  k=$((k + 1)); root=$PWD; [ "$side" = old ] && root=$PWD/.ab/old  # each side with its own amp.yaml
  suite=$root/suites/amp.yaml
  if [ -n "${REPEATS:-}" ]; then sed "s/^  repeats: .*/  repeats: $REPEATS/" "$suite" > /tmp/amp-$k.yaml; suite=/tmp/amp-$k.yaml; fi
  rm -rf "/tmp/st-$side.$k"; t0=$(date +%s.%N)
  (cd "$root" && PYTHONPATH=/tmp/site:$root tmo 300 python3 -m benchbench.cli run "$suite" -o "/tmp/st-$side.$k" -q --gpus 1)
  rc=$?; t1=$(date +%s.%N); echo "amp.yaml, $side code ($k): exit $rc"; keep_run "/tmp/st-$side.$k" "$side.$k"
  echo "{\"command_wall_s\": $(python3 -c "print(round($t1 - $t0, 3))")}" > "$Q_OUT/$side.$k/command.json"  # the whole command
done
exit 0
