#!/usr/bin/env bash
# Device call: suites/zero.yaml (DeepSpeed ZeRO 0-3, DDP, variants; world_size 2 rows skipped on
# one GPU), then the memory table.   SUITE=... bash bench/gpu_zero.sh [BUDGET_S]
DEFAULT_BUDGET=560
BUDGET=${1:-}
. "$(dirname "$0")/device_env.sh"
export TORCH_CUDA_ARCH_LIST=9.0 TORCH_EXTENSIONS_DIR=/tmp/ds_ext
log="$OUT/zero.txt"
{ date -u; nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv;
  python3 -c "import torch, deepspeed; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'deepspeed', deepspeed.__version__)"; } 2>&1 | tee -a "$log"
rm -rf /tmp/zero
tmo $(( $(left) - 30 )) python3 -m benchbench.cli run ${SUITE:-suites/zero.yaml} -o /tmp/zero -q 2>&1 | tail -40 | tee -a "$log"
cp /tmp/zero/rows.jsonl "$OUT/zero_rows.jsonl" 2>/dev/null; cp /tmp/zero/env.json /tmp/zero/run.json "$OUT/" 2>/dev/null
python3 bench/zero_report.py /tmp/zero 2>&1 | tee -a "$log"
for f in /tmp/zero/logs/*.log; do echo "--- $f"; tail -3 "$f"; done >> "$log" 2>&1
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$log"
