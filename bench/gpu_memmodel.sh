#!/usr/bin/env bash
# Device call for issue 8's memory model: a suite (default bench/suites/memmodel_gpu.yaml, one GPU), then predicted
# (benchbench/memory_model.py) against measured peak allocator bytes per config.
#   bash bench/gpu_memmodel.sh [BUDGET_S]     rows come back as $OUT/memmodel_rows.jsonl
#   SUITE=bench/suites/memmodel_2gpu.yaml bash bench/gpu_memmodel.sh 480     (two GPUs: ZeRO shards)
DEFAULT_BUDGET=560
BUDGET=${1:-}
. "$(dirname "$0")/device_env.sh"
export TORCH_CUDA_ARCH_LIST=9.0 TORCH_EXTENSIONS_DIR=/tmp/ds_ext
log="$OUT/memmodel.txt"
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader;
  python3 -c "import torch, deepspeed; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'deepspeed', deepspeed.__version__)"; } 2>&1 | tee -a "$log"
rm -rf /tmp/mm
tmo $(( $(left) - 25 )) python3 -m benchbench.cli run ${SUITE:-bench/suites/memmodel_gpu.yaml} -o /tmp/mm -q 2>&1 | tail -45 | tee -a "$log"
cp /tmp/mm/rows.jsonl "$OUT/memmodel_rows.jsonl" 2>/dev/null; cp /tmp/mm/env.json "$OUT/" 2>/dev/null
python3 bench/memory_model_check.py /tmp/mm 2>&1 | tee -a "$log"
for f in /tmp/mm/logs/*.log; do echo "--- $f"; tail -3 "$f"; done >> "$OUT/worker_logs.txt" 2>&1
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$log"
