#!/usr/bin/env bash
# Everything docs/performance.md reports, in one device call, each step under a deadline.
#   bash bench/gpu_run.sh [BUDGET_S] [STEPS]
# STEPS: any of smi,eager,reference,compile,amp,overhead (default smi,eager,reference,compile).
# Results go to $OUT (default /tmp/bench_out): at most 8 files, one folder deep.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/bench_out}
mkdir -p "$OUT"
BUDGET=${1:-480}
STEPS=${2:-smi,eager,reference,compile}
START=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - START))); }
cap() { local l; l=$(left); if [ "$l" -lt "$1" ]; then echo "$l"; else echo "$1"; fi; }
has() { [[ ",$STEPS," == *",$1,"* ]]; }
# SIGINT first: the benchbench parent then kills its worker's process group before exiting.
tmo() { local t; t=$(cap "$1"); shift; if [ "$t" -lt 20 ]; then echo "SKIPPED (budget): $*"; return 124; fi
        timeout -s INT -k 20 "$t" "$@"; }

if [ -d .whl ] && ! python3 -c "import pydantic" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
python3 -c "import rich, pydantic, yaml, pyarrow, pandas, pynvml" || exit 1

if has smi; then
  { date -u; nvidia-smi; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit,temperature.gpu --format=csv
    python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), torch.cuda.get_device_name(0))"
    nproc; } > "$OUT/device.txt" 2>&1
  cat "$OUT/device.txt"
fi

if has eager; then
  echo "=== [$(left) s left] bare vs harness, eager"
  tmo 150 python3 bench/bare_vs_harness.py --rounds 3 --profile 5 --profile-out "$OUT/profile_eager.txt" \
      --json "$OUT/bare_vs_harness_eager.json" 2>&1 | tee "$OUT/bare_vs_harness_eager.txt"
fi

if has reference; then
  echo "=== [$(left) s left] benchbench run suites/reference.yaml"
  rm -rf /tmp/reference
  tmo 330 python3 -m benchbench.cli run suites/reference.yaml -o /tmp/reference -q 2>&1 | tee /tmp/reference_run.txt
  cp /tmp/reference/rows.jsonl "$OUT/reference_rows.jsonl" 2>/dev/null
  { cat /tmp/reference_run.txt; echo; python3 -m benchbench.cli table /tmp/reference; echo
    python3 bench/reference_report.py /tmp/reference; echo; python3 bench/reference_report.py /tmp/reference --markdown
    for f in /tmp/reference/logs/*.log; do echo "--- $f"; tail -5 "$f"; done; } > "$OUT/reference_table.txt" 2>&1
  tail -n 25 "$OUT/reference_table.txt"
fi

if has compile; then
  echo "=== [$(left) s left] bare vs harness, torch.compile"
  tmo 300 python3 bench/bare_vs_harness.py --compile --rounds 2 --json "$OUT/bare_vs_harness_compile.json" 2>&1 \
      | tee "$OUT/bare_vs_harness_compile.txt"
fi

if has amp; then
  echo "=== [$(left) s left] benchbench run suites/amp.yaml"
  rm -rf /tmp/amp
  tmo 300 python3 -m benchbench.cli run suites/amp.yaml -o /tmp/amp -q 2>&1 | tail -n 20
  python3 bench/reference_report.py /tmp/amp > /dev/null 2>&1
  cp /tmp/amp/rows.jsonl "$OUT/amp_rows.jsonl" 2>/dev/null
fi
if has overhead; then
  echo "=== [$(left) s left] worker overhead breakdown"
  python3 -X importtime -c "import benchbench.worker.measure" 2> /tmp/importtime.txt
  { echo "python -X importtime -c 'import benchbench.worker.measure': top 25 by cumulative us"; head -1 /tmp/importtime.txt
    sort -t'|' -k2 -n -r /tmp/importtime.txt | head -25; } > "$OUT/importtime_top.txt"
  tmo 100 python3 bench/worker_overhead.py 2>&1 | tee "$OUT/worker_overhead_eager.txt"
  tmo 170 python3 bench/worker_overhead.py --compile 2>&1 | tee "$OUT/worker_overhead_compile.txt"
  cat "$OUT/importtime_top.txt"
fi
echo "=== done, $(( $(date +%s) - START )) s"
