#!/usr/bin/env bash
# torchtitan's own trainer (its 0.2.2 wheel, carried in .whl with torchao and its needs) and benchbench's llama
# side by side on one GPU, each pair back to back; and benchbench's llama before and after its eager changes.
#   PART="ab 1b-eager 1b-compiled" bash bench/torchtitan/run.sh [BUDGET_S]
#   parts: ab (benchbench 1b-eager at the previous commit's code, .ab/old, and at this one, 3 repeats each)
#          and every name of `python3 bench/torchtitan/configs.py names` (torchtitan's run, then benchbench's);
#          abba-NAME: torchtitan, benchbench twice (two repeats of one suite), torchtitan, back to back;
#          titan-NAME: torchtitan alone; diag-NAME: benchbench alone, NAME swept over attention and compile scope (configs.py diag)
#   rows: $Q_OUT/bench/<name>[.K]/ and $Q_OUT/ab/{old,new}/; torchtitan's logs: $Q_OUT/titan/<name>[.K].log
#   NO_TITAN=1: benchbench's side only; BB_REPEATS=3: benchbench's repeats (default 1); BB_FLAGS: more
#   `benchbench run` flags (--profile)
#   then: python3 bench/torchtitan/analyze.py (docs/performance.md's table)
DEFAULT_BUDGET=560
. "$(dirname "$0")/../device_env.sh"
HERE=bench/torchtitan
titan() {  # NAME SECONDS [LOG_NAME]
  local d=/tmp/titan/$1 log=$Q_OUT/titan/${3:-$1}.log; rm -rf "$d"; mkdir -p "$d" "$Q_OUT/titan"
  python3 $HERE/configs.py toml "$1" "$d" > "$d/job.toml"
  PYTHONPATH=$PWD/$HERE:$PYTHONPATH tmo "$2" torchrun --standalone --nproc_per_node 1 -m torchtitan.train \
    --job.config_file "$d/job.toml" > "$log" 2>&1
  echo "torchtitan $1: exit $?"; grep -a "tps" "$log" | tail -1
}
bb() {  # NAME SECONDS REPEATS OUT_NAME [CODE_ROOT] [suite|diag]
  python3 $HERE/configs.py "${6:-suite}" "$1" "$3" > "/tmp/bb-${4//\//-}.yaml"
  rm -rf "/tmp/bb-$4"
  (cd "${5:-$PWD}" && PYTHONPATH=/tmp/site:${5:-$PWD} tmo "$2" python3 -m benchbench.cli run "/tmp/bb-${4//\//-}.yaml" \
     -o "/tmp/bb-$4" -q --gpus 1 ${BB_FLAGS:-})  # from the code root: python -m imports the current folder first
  echo "benchbench $1 -> $4: exit $?"; keep_run "/tmp/bb-$4" "$4"
}
for part in ${PART:-ab 1b-eager 1b-compiled 1b-fp8-compiled 3b-eager 3b-compiled}; do
  case $part in
    ab) bb 1b-eager 200 3 ab/old "$PWD/.ab/old"; bb 1b-eager 200 3 ab/new ;;
    abba-*) n=${part#abba-}; titan "$n" 150 "$n.1"; bb "$n" 300 2 "bench/$n"; titan "$n" 150 "$n.2" ;;
    titan-*) titan "${part#titan-}" 150 ;;
    diag-*) bb "${part#diag-}" 400 1 "diag/${part#diag-}" "$PWD" diag ;;
    *) [ -z "${NO_TITAN:-}" ] && titan "$part" 240; bb "$part" 240 "${BB_REPEATS:-1}" "bench/$part" ;;
  esac
done
exit 0
