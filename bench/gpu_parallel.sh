#!/usr/bin/env bash
# Device call on 2 GPUs: suites/parallel.yaml (DDP and FSDP2 at 1 and 2 GPUs; DeepSpeed rows are
# skipped where deepspeed is not installed).   bash bench/gpu_parallel.sh [BUDGET_S]
BUDGET=${1:-420}
. "$(dirname "$0")/device_env.sh"
log="$OUT/parallel.txt"
{ nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv; env | grep -E "^NCCL|MULTICAST|NVSHMEM"; } 2>&1 | tee -a "$log"
rm -rf /tmp/par
tmo 400 python3 -m benchbench.cli run ${SUITE:-suites/parallel.yaml} -o /tmp/par -q 2>&1 | tee -a "$log"
cp /tmp/par/rows.jsonl "$OUT/parallel_rows.jsonl" 2>/dev/null
python3 - <<'PY' 2>&1 | tee -a "$log"
from benchbench.store import results
df = results.load("/tmp/par")
cols = ["engine", "zero_stage", "world_size", "repeat", "status", "step_time_s_median", "tokens_per_s", "peak_allocated_bytes",
        "peak_allocated_bytes_per_rank", "params_bytes", "optimizer_state_bytes", "mfu", "energy_j", "reason"]
print(df[[c for c in cols if c in df]].to_string(index=False))
PY
for f in /tmp/par/logs/*.log; do echo "--- $f"; tail -4 "$f"; done >> "$log" 2>&1
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$log"
