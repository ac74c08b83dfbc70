#!/usr/bin/env bash
# Device call for issue 8 (one GPU): the numerics check of every precision (bench/suites/numerics_gpu.yaml)
# and benchbench maxbatch (bench/suites/maxbatch_gpu.yaml, or a suite given as the second argument).
#   bash bench/gpu_issue8.sh [BUDGET_S] [MAXBATCH_SUITE] [SKIP_NUMERICS=0|1]
DEFAULT_BUDGET=560
BUDGET=${1:-}
MB_SUITE=${2:-bench/suites/maxbatch_gpu.yaml}
SKIP_NUMERICS=${3:-0}
. "$(dirname "$0")/device_env.sh"
log="$OUT/issue8.txt"
date -u | tee -a "$log"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$log"
if [ "$SKIP_NUMERICS" != 1 ]; then
  rm -rf /tmp/num
  tmo 260 python3 -m benchbench.cli run bench/suites/numerics_gpu.yaml -o /tmp/num -q 2>&1 | tail -22 | tee -a "$log"
  cp /tmp/num/rows.jsonl "$OUT/numerics_rows.jsonl" 2>/dev/null
  python3 - <<'PY' 2>&1 | tee -a "$log"
import json
rows = [json.loads(l) for l in open("/tmp/num/rows.jsonl")]
print(f"{'precision':10} {'attention':9} {'ckpt':5} {'accum':5} {'numerics':9} {'max rel loss dev':>16} {'update cos':>10}  loss0 -> loss49 (ref)")
for r in rows:
    l, rl = r.get("numerics_losses") or [0], r.get("numerics_reference_losses") or [0]
    print(f"{r['precision']:10} {r['attention']:9} {r['checkpointing']:5} {r['grad_accum']:5} {str(r.get('numerics')):9} "
          f"{r.get('numerics_max_rel_loss_dev', float('nan')):16.3g} {r.get('numerics_update_cosine', float('nan')):10.5f}  "
          f"{l[0]:.4f} -> {l[-1]:.4f} ({rl[-1]:.4f}) {r['status']} {r.get('reason') or r.get('numerics_reason') or ''}")
PY
fi
rm -rf /tmp/mb
tmo $(( $(left) - 10 )) python3 -m benchbench.cli maxbatch "$MB_SUITE" -o /tmp/mb 2>&1 | tail -40 | tee -a "$log"
cp /tmp/mb/maxbatch.json "$OUT/maxbatch.json" 2>/dev/null; cp /tmp/mb/rows.jsonl "$OUT/maxbatch_rows.jsonl" 2>/dev/null
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$log"
