#!/usr/bin/env bash
# One GPU machine call for several questions: bash bench/device_run.sh QUESTION[:BUDGET_S][@GPUS] ...
# Runs bench/<question>/run.sh for each (each under its own budget), one after another; a question with
# @GPUS (e.g. @2 or @0,1) runs in the background on those GPUs only (CUDA_VISIBLE_DEVICES), beside the
# others. Logs go to $OUT/log.txt (background questions: $OUT/log-<question>.txt)
# and packs every question's results into $OUT/results.tgz (unpack under results/examples/ with
# bench/unpack.sh after review). Device, date and commit go into each question's provenance.json.
set -u
OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT" /tmp/bench_out
{ date -u; nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader; nproc
  python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)"
} 2>&1 | tee -a "$OUT/log.txt"
if [ -d .whl ] && [ -z "${NO_WHEELS:-}" ] && [ "$(cat /tmp/site/.installed 2>/dev/null)" != "$(ls .whl | md5sum)" ]; then  # once, before questions run side by side
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && ls .whl | md5sum > /tmp/site/.installed
fi
for q in "$@"; do
  gpus=""; case "$q" in *@*) gpus=${q#*@}; q=${q%%@*};; esac
  name=${q%%:*}; budget=${q#*:}; [ "$budget" = "$q" ] && budget=""
  echo "=== $(date -u +%H:%M:%S) $name (budget ${budget:-default})" | tee -a "$OUT/log.txt"
  mkdir -p "/tmp/bench_out/$name"
  python3 - "$name" > "/tmp/bench_out/$name/provenance.json" <<'PY'
import datetime, json, subprocess, sys
try:
    gpus = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.split("\n")
except OSError:
    gpus = []
gpus = [g for g in gpus if g.strip()]
commit = open(".bench_commit").read().strip() if __import__("os").path.exists(".bench_commit") else None
print(json.dumps({"question": sys.argv[1], "date": datetime.date.today().isoformat(), "device": f"{len(gpus)} x {gpus[0]}" if gpus else "none",
                  "commit": commit}, indent=1))
PY
  if [ -n "$gpus" ]; then
    CUDA_VISIBLE_DEVICES=$gpus BUDGET=$budget bash "bench/$name/run.sh" > "$OUT/log-$name.txt" 2>&1 &
  else
    BUDGET=$budget bash "bench/$name/run.sh" 2>&1 | tee -a "$OUT/log.txt"
  fi
done
wait
tar czf "$OUT/results.tgz" -C /tmp/bench_out . && ls -la "$OUT"
