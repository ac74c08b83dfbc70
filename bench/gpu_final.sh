#!/usr/bin/env bash
# Third device call of 2026-11-23: GPU tests again (flex), fixed cost with and without prestarted
# workers, and the amp suite.   bash bench/gpu_final.sh [BUDGET_S]   (writes to $OUT)
BUDGET=${1:-450}
. "$(dirname "$0")/device_env.sh"
log="$OUT/final.txt"
echo "=== [$(left) s left] pytest -m gpu" | tee -a "$log"
tmo 150 python3 -m pytest -m gpu -q -p no:cacheprovider tests/unit 2>&1 | grep -vE "^DEBUG|^$" | tail -40 | tee -a "$log"
for mode in prestart no-prestart; do
  echo "=== [$(left) s left] overhead suite, $mode" | tee -a "$log"
  flag=""; [ $mode = no-prestart ] && flag=--no-prestart
  rm -rf /tmp/ov-$mode
  tmo 200 python3 -m benchbench.cli run bench/suites/overhead.yaml -o /tmp/ov-$mode -q $flag 2>&1 | tail -12 | tee -a "$log"
  python3 bench/overhead_report.py /tmp/ov-$mode 2>&1 | tee -a "$log"
done
echo "=== [$(left) s left] amp suite" | tee -a "$log"
rm -rf /tmp/amp
tmo 240 python3 -m benchbench.cli run suites/amp.yaml -o /tmp/amp -q 2>&1 | tee -a "$log"
cp /tmp/amp/rows.jsonl "$OUT/amp_rows.jsonl" 2>/dev/null
cp /tmp/amp/env.json "$OUT/amp_env.json" 2>/dev/null
python3 bench/overhead_report.py /tmp/amp 2>&1 | tee -a "$log"
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$log"
