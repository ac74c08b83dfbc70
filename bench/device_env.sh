# Sourced by the bench/gpu_*.sh scripts on a device machine: output folder, a time budget with
# `tmo SECONDS CMD...` (a step's deadline, capped by what is left), and the carried wheels (.whl).
#   OUT (default /tmp/<script>_out), BUDGET (first argument of the script, default DEFAULT_BUDGET)
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/$(basename "$0" .sh)_out}
mkdir -p "$OUT"
BUDGET=${BUDGET:-${DEFAULT_BUDGET:-420}}
START=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - START))); }
tmo() { local t=$1; shift; local l; l=$(left); [ "$l" -lt "$t" ] && t=$l; [ "$t" -lt 20 ] && { echo "SKIPPED (budget): $*"; return 124; }
        timeout -s INT -k 20 "$t" "$@"; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD:${PYTHONPATH:-} PATH=/tmp/site/bin:$PATH
