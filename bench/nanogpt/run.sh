#!/usr/bin/env bash
# benchbench's GPT-2 124M against nanoGPT's own bench.py at its config (batch 12 x 1024, bf16 autocast, fused
# AdamW, synthetic tokens), eager and compiled, one GPU. nanoGPT's bench.py, model.py and configurator.py
# (github.com/karpathy/nanoGPT, MIT) are carried in .ab/nanogpt, not committed.
#   ORDER="n b b n" bash bench/nanogpt/run.sh [BUDGET_S]    n: nanoGPT eager then compiled; b: benchbench's suite
#   logs: $Q_OUT/nanogpt-{eager,compiled}.<k>.log; rows: $Q_OUT/bench.<k>/; then python3 bench/nanogpt/analyze.py
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
k=0
for side in ${ORDER:-n b}; do
  k=$((k + 1))
  if [ "$side" = n ]; then
    for c in False True; do
      name=$([ $c = True ] && echo compiled || echo eager)
      (cd .ab/nanogpt && tmo 150 python3 bench.py --real_data=False --compile=$c) > "$Q_OUT/nanogpt-$name.$k.log" 2>&1
      echo "nanoGPT $name ($k): exit $?"; grep -a "time per iteration" "$Q_OUT/nanogpt-$name.$k.log"
    done
  else
    rm -rf "/tmp/ng-$k"
    tmo 200 python3 -m benchbench.cli run bench/nanogpt/suite.yaml -o "/tmp/ng-$k" -q --gpus 1
    echo "benchbench ($k): exit $?"; keep_run "/tmp/ng-$k" "bench.$k"
  fi
done
exit 0
