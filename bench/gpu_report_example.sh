#!/usr/bin/env bash
# Device call (2 GPUs): the offload rows of the zero suite (bench/suites/zero_variants.yaml), then
# the profiled run behind results/examples/ (bench/suites/report_example.yaml, one GPU), packed
# as report_example.tgz (traces left out if it would pass 15 MB).   bash bench/gpu_report_example.sh [BUDGET_S]
DEFAULT_BUDGET=560
BUDGET=${1:-}
. "$(dirname "$0")/device_env.sh"
export TORCH_CUDA_ARCH_LIST=9.0 TORCH_EXTENSIONS_DIR=/tmp/ds_ext
log="$OUT/extra.txt"
date -u | tee -a "$log"
rm -rf /tmp/zv /tmp/rex
tmo 260 python3 -m benchbench.cli run bench/suites/zero_variants.yaml -o /tmp/zv -q 2>&1 | tail -5 | tee -a "$log"
cp /tmp/zv/rows.jsonl "$OUT/zv_rows.jsonl" 2>/dev/null
python3 bench/zero_report.py /tmp/zv 2>&1 | tee -a "$log"
for f in /tmp/zv/logs/*.log; do echo "--- $f"; tail -5 "$f"; done >> "$log" 2>&1
tmo $(( $(left) - 15 )) python3 -m benchbench.cli run bench/suites/report_example.yaml -o /tmp/rex -q 2>&1 | tail -25 | tee -a "$log"
tar czf "$OUT/report_example.tgz" -C /tmp --exclude=work rex
if [ "$(stat -c %s "$OUT/report_example.tgz")" -gt 15000000 ]; then
  tar czf "$OUT/report_example.tgz" -C /tmp --exclude=work --exclude='*-r1/*trace*' rex
fi
if [ "$(stat -c %s "$OUT/report_example.tgz")" -gt 15000000 ]; then
  tar czf "$OUT/report_example.tgz" -C /tmp --exclude=work --exclude='*trace*.json*' rex
fi
ls -la "$OUT" | tee -a "$log"
echo "=== done, $(( $(date +%s) - START )) s" | tee -a "$log"
