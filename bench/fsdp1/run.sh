#!/usr/bin/env bash
# Where FSDP2's time goes at one GPU: bench/fsdp1/probe.py (variants in one process), then the engines suite at
# one GPU through the CLI, with the profiler, with and without the prestarted spare worker.
#   bash bench/fsdp1/run.sh [BUDGET_S]
DEFAULT_BUDGET=500
. "$(dirname "$0")/../device_env.sh"
tmo 90 python3 bench/fsdp1/probe.py ${VARIANTS:-fsdp ddp} 2>&1 | grep -v -i warn
PG_LAZY=1 WARM=3 tmo 90 python3 bench/fsdp1/probe.py ${VARIANTS:-fsdp ddp} 2>&1 | grep -v -i warn
cli() {  # NAME ARGS...
  local name=$1; shift
  rm -rf "/tmp/fsdp1-$name" && tmo 200 python3 -m benchbench.cli run bench/llama/suite_engines.yaml -o "/tmp/fsdp1-$name" -q --gpus 1 "$@"
  keep_run "/tmp/fsdp1-$name" "$name"
  mkdir -p "$Q_OUT/$name/artifacts"; cp -r /tmp/fsdp1-$name/artifacts/*-r0 "$Q_OUT/$name/artifacts/" 2>/dev/null
  python3 -m benchbench.cli table "/tmp/fsdp1-$name" 2>&1 | tail -8
}
[ -z "${NO_CLI:-}" ] && cli profiled --profile && cli noprestart --no-prestart
exit 0
