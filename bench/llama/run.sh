#!/usr/bin/env bash
# fp8 against bf16 on Llama 1B (eager with numerics against bf16; compiled) and 3B (compiled), and what DDP and
# FSDP2 cost at one GPU (GPT-2 124M, eager and compiled, 16 and 32 x 1024). One GPU; each part fits one call:
#   PART=engines  (~5 min)   PART=eager (~5 min)   PART=compiled (~9 min)   PART=3b (~6 min)
#   PART="engines eager" bash bench/llama/run.sh [BUDGET_S]   rows: $Q_OUT/<part>/ ; then: python bench/llama/analyze.py
#   SMOKE=1 NO_WHEELS=1 PART="engines eager compiled 3b" bash bench/llama/run.sh   every config at tiny scale on a CPU
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
run() {  # SECONDS SUITE NAME
  rm -rf "/tmp/llama-$3" && tmo "$1" python3 -m benchbench.cli run "$2" -o "/tmp/llama-$3" -q --gpus 1 ${SMOKE:+--smoke}
  keep_run "/tmp/llama-$3" "$3"
}
for part in ${PART:-engines eager compiled 3b}; do
  case $part in
    engines) run 290 bench/llama/suite_engines.yaml engines ;;
    eager) run 280 bench/llama/suite.yaml eager ;;
    compiled) run 560 bench/llama/suite_compiled.yaml compiled ;;
    3b) run 430 bench/llama/suite_3b.yaml 3b ;;
  esac
done
exit 0
