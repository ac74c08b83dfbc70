#!/usr/bin/env bash
# recommend, cost and batch_size: max on one GPU; recommend's markdown (each objective, and a 40 GiB
# and an 80 GiB memory budget) beside the rows, and every export.
#   bash bench/answers/run.sh [BUDGET_S]     rows: $Q_OUT/run/ ; then: python bench/answers/analyze.py (on the unpacked rows)
#   RESUME=1 bash bench/answers/run.sh       continue /tmp/answers (a sweep the budget cut short) instead of starting over
#   SMOKE=1 NO_WHEELS=1 bash bench/answers/run.sh   the script on a CPU, every config tiny (no max-batch search)
# The tensorboard, mlflow and wandb exports need their libraries (the extras; carried as wheels in .whl/):
# without one, that export says which extra is missing and the others go on.
DEFAULT_BUDGET=580
. "$(dirname "$0")/../device_env.sh"
RUN=/tmp/answers
if [ -n "${RESUME:-}" ] && [ -f "$RUN/run.json" ]; then
  tmo 540 python3 -m benchbench.cli run --resume "$RUN" -q
else
  rm -rf "$RUN" && tmo 540 python3 -m benchbench.cli run bench/answers/suite.yaml -o "$RUN" -q ${SMOKE:+--smoke}
fi
keep_run "$RUN" run
[ -d "$RUN/autobatch" ] && keep_run "$RUN/autobatch" run/autobatch && cp "$RUN/autobatch.json" "$Q_OUT/run/" 2>/dev/null
rec() { local name=$1; shift; python3 -m benchbench.cli recommend "$RUN" "$@" > "$Q_OUT/run/recommend-$name" 2>&1 \
          || echo "recommend $name: exit $?: $(cat "$Q_OUT/run/recommend-$name")"; }
for objective in tokens_per_s tokens_per_j usd_per_mtoken; do rec "$objective.md" --objective $objective --format markdown; done
rec 40GiB.md --memory-budget 40 --format markdown
rec 80GiB.md --memory-budget 80 --format markdown
rec all.json --format json
mkdir -p "$Q_OUT/exports"
for fmt in bencher pytest-benchmark tensorboard mlflow wandb; do
  out="$Q_OUT/exports/$fmt"; case $fmt in bencher|pytest-benchmark) out="$out.json";; esac
  python3 -m benchbench.cli export "$RUN" --format $fmt -o "$out" || echo "export $fmt: exit $?"
done
find "$Q_OUT" -maxdepth 3 | sort | head -60
python3 bench/answers/analyze.py "$Q_OUT/run"
