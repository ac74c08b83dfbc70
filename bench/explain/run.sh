#!/usr/bin/env bash
# Why configs differ, explained from profiled rows (docs/explain.md), on one GPU in about 6-8 minutes:
#   gpt      GPT-2 124M 16 x 1024: the plain loop, DDP, FSDP2 (world size 1), each profiled
#   planted  the plain loop with two planted elementwise kernels (bench/planted; the same config id)
#   llama    Llama 1B 4 x 2048: bf16 eager, fp8 eager, bf16 compiled, each profiled
#   bash bench/explain/run.sh [BUDGET_S]     rows and each config's first trace: $Q_OUT/{gpt,planted,llama}/
#   then: cp -r $Q_OUT results/examples/explain-<gpu> (+ provenance.json); python bench/docs.py
#   SMOKE=1 NO_WHEELS=1 bash bench/explain/run.sh   every config at tiny scale on a CPU
DEFAULT_BUDGET=540
. "$(dirname "$0")/../device_env.sh"
keep() {  # RUN_DIR NAME: the run's files and the first repeat's trace of each config (the repository stays small)
  keep_run "$1" "$2"
  for t in "$1"/artifacts/*-r0/trace.json.gz; do
    [ -f "$t" ] || continue
    d="$Q_OUT/$2/artifacts/$(basename "$(dirname "$t")")"; mkdir -p "$d"; cp "$t" "$d/"
  done
}
run() {  # SECONDS SUITE NAME
  echo "== $3: $2 ($(left) s of the budget left)"
  rm -rf "/tmp/explain-$3"
  tmo "$1" python3 -m benchbench.cli run "$2" -o "/tmp/explain-$3" -q --gpus 1 ${SMOKE:+--smoke}
  keep "/tmp/explain-$3" "$3"
  python3 -m benchbench.cli table "/tmp/explain-$3" 2>&1 | tail -n 12
}
run 150 bench/explain/suite_gpt.yaml gpt
BENCH_PLANTED_KERNELS=2 PYTHONPATH="$PWD/bench/planted:$PYTHONPATH" run 70 bench/explain/suite_planted.yaml planted
run 330 bench/explain/suite_llama.yaml llama
python3 -m benchbench.cli explain /tmp/explain-gpt /tmp/explain-planted || true
python3 bench/explain/analyze.py "$Q_OUT" || true
echo "== done ($(left) s of the budget left); everything is under $Q_OUT"
exit 0
