#!/usr/bin/env bash
# fp8 against bf16 on Llama 1B (eager and compiled, numerics against bf16) and 3B (compiled), and what DDP and
# FSDP2 cost at one GPU (GPT-2 124M). One GPU, ~7 minutes.
#   bash bench/llama/run.sh [BUDGET_S]     rows: $Q_OUT/{1b,3b,engines}/ ; then: python bench/llama/analyze.py (on the unpacked rows)
#   SMOKE=1 NO_WHEELS=1 bash bench/llama/run.sh    every config at tiny scale on a CPU (fp8 rows skipped there)
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
run() {  # SECONDS SUITE NAME
  rm -rf "/tmp/llama-$3" && tmo "$1" python3 -m benchbench.cli run "$2" -o "/tmp/llama-$3" -q --gpus 1 ${SMOKE:+--smoke}
  keep_run "/tmp/llama-$3" "$3"
}
# PART=1b (about 9 minutes) or PART=rest (engines and 3B); both when unset
[ "${PART:-1b}" = 1b ] && run 540 bench/llama/suite.yaml 1b
[ "${PART:-rest}" = rest ] && run 150 bench/llama/suite_engines.yaml engines
[ "${PART:-rest}" = rest ] && run 380 bench/llama/suite_3b.yaml 3b
exit 0
