#!/usr/bin/env bash
# What the harness costs against a hand-written loop (GPT-2 124M, bf16, SDPA, 16 x 1024), eager and
# compiled, in one process, A/B rounds alternating.   bash bench/overhead/run.sh [BUDGET_S]
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
tmo 120 python3 bench/overhead/bare_vs_harness.py --rounds 3 --json "$Q_OUT/bare_vs_harness_eager.json"
tmo 170 python3 bench/overhead/bare_vs_harness.py --compile --rounds 2 --json "$Q_OUT/bare_vs_harness_compile.json"
python3 bench/overhead/analyze.py "$Q_OUT"
