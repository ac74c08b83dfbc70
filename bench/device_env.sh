# Sourced by every bench/<question>/run.sh on a GPU machine: NVLink multicast off, the carried wheels
# (.whl) installed once, the checkout on the import path, a time budget, and where results go.
#   Q_OUT   this question's output folder (default /tmp/bench_out/<question>)
#   BUDGET  seconds this question may take (first argument of run.sh, else DEFAULT_BUDGET, else 420)
#   tmo SECONDS CMD...   run CMD under a deadline capped by what is left of BUDGET (SIGINT first:
#                        benchbench then ends its workers and keeps every finished row)
#   keep_run RUN_DIR NAME  copy a run's rows.jsonl, env.json, run.json, suite.yaml to $Q_OUT/NAME/
set -u
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} TORCH_EXTENSIONS_DIR=${TORCH_EXTENSIONS_DIR:-/tmp/ds_ext}
Q_NAME=$(basename "$(cd "$(dirname "$0")" && pwd)")
Q_OUT=${Q_OUT:-/tmp/bench_out/$Q_NAME}
mkdir -p "$Q_OUT"
BUDGET=${BUDGET:-${1:-${DEFAULT_BUDGET:-420}}}
START=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - START))); }
tmo() { local t=$1; shift; local l; l=$(left); [ "$l" -lt "$t" ] && t=$l; [ "$t" -lt 20 ] && { echo "SKIPPED (budget): $*"; return 124; }
        timeout -s INT -k 20 "$t" "$@"; }
if [ -d .whl ] && [ -z "${NO_WHEELS:-}" ] && [ "$(cat /tmp/site/.installed 2>/dev/null)" != "$(ls .whl | md5sum)" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && ls .whl | md5sum > /tmp/site/.installed || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD:${PYTHONPATH:-} PATH=/tmp/site/bin:$PATH
keep_run() { mkdir -p "$Q_OUT/$2"; for f in rows.jsonl env.json run.json suite.yaml maxbatch.json; do
               [ -f "$1/$f" ] && cp "$1/$f" "$Q_OUT/$2/"; done; return 0; }
