#!/usr/bin/env bash
# Second device call of 2026-11-23: GPU-only tests, collector overhead + a GPU trace fixture,
# the GPU checks suite (profiler, py-spy, bf16-pure, fp16+EMA, attention backends), worker overhead.
#   bash bench/gpu_checks.sh [BUDGET_S]          (writes to $OUT)
BUDGET=${1:-420}
. "$(dirname "$0")/device_env.sh"
{ which py-spy; py-spy --version; python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"; } 2>&1 | tee "$OUT/checks.txt"

echo "=== [$(left) s left] pytest -m gpu" | tee -a "$OUT/checks.txt"
tmo 120 python3 -m pytest -m gpu -q -p no:cacheprovider tests/unit 2>&1 | tail -25 | tee -a "$OUT/checks.txt"

echo "=== [$(left) s left] collector overhead + trace" | tee -a "$OUT/checks.txt"
tmo 120 python3 bench/collector_overhead.py --size 124m --batch 16 --rounds 3 --steps 40 \
    --trace-out "$OUT/gpu_trace_gpt2_bf16.json.gz" 2>&1 | grep -v USDT | tee -a "$OUT/checks.txt"

echo "=== [$(left) s left] gpu_checks suite" | tee -a "$OUT/checks.txt"
rm -rf /tmp/gc
tmo 200 python3 -m benchbench.cli run bench/suites/gpu_checks.yaml -o /tmp/gc -q 2>&1 | tee -a "$OUT/checks.txt"
cp /tmp/gc/rows.jsonl "$OUT/gpu_checks_rows.jsonl" 2>/dev/null
ls -la /tmp/gc/artifacts/* 2>&1 | tee -a "$OUT/checks.txt"
for f in /tmp/gc/logs/*.log; do echo "--- $f"; tail -3 "$f"; done >> "$OUT/checks.txt" 2>&1

echo "=== [$(left) s left] import times (bytecode cache)" | tee -a "$OUT/checks.txt"
for prefix in "" /tmp/pyc /tmp/pyc; do
  env ${prefix:+PYTHONPYCACHEPREFIX=$prefix} python3 -c "import time; t=time.time(); import torch, torch._dynamo; \
print(f'import torch+dynamo: {time.time()-t:.2f} s (PYTHONPYCACHEPREFIX=$prefix)')" 2>&1 | tail -1 | tee -a "$OUT/checks.txt"
done

echo "=== [$(left) s left] worker overhead (eager)" | tee -a "$OUT/checks.txt"
tmo 90 python3 bench/worker_overhead.py 2>&1 | tail -30 | tee -a "$OUT/checks.txt"
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$OUT/checks.txt"
