#!/usr/bin/env bash
# Identical runs must get no faster/slower verdict; two planted extra kernels must be `slower` on every config.
#   bash bench/verdicts/run.sh [BUDGET_S]        rows: $Q_OUT/{a,b,planted}/ ; comparisons: $Q_OUT/*.md
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
GPUS=${GPUS:-1}
for name in a b planted; do
  rm -rf /tmp/verdicts-$name
  if [ $name = planted ]; then
    BENCH_PLANTED_KERNELS=2 PYTHONPATH=$PWD/bench/planted:$PYTHONPATH tmo 150 python3 -m benchbench.cli run bench/verdicts/suite.yaml -o /tmp/verdicts-$name -q ${SMOKE:+--smoke}
  else
    tmo 150 python3 -m benchbench.cli run bench/verdicts/suite.yaml -o /tmp/verdicts-$name -q ${SMOKE:+--smoke}
  fi
  keep_run /tmp/verdicts-$name $name
done
python3 -m benchbench.cli compare /tmp/verdicts-a /tmp/verdicts-b --markdown "$Q_OUT/a_vs_b.md"
python3 -m benchbench.cli compare /tmp/verdicts-a /tmp/verdicts-planted --markdown "$Q_OUT/a_vs_planted.md"
cat "$Q_OUT"/*.md
