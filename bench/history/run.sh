#!/usr/bin/env bash
# A history of 8 commits of this checkout (a throwaway git repository made from the working copy); the
# planted kernels land at commit 5 (bench/planted/kernels). Each commit's run goes to $Q_OUT/run-<i>/.
#   bash bench/history/run.sh [BUDGET_S]
DEFAULT_BUDGET=300
. "$(dirname "$0")/../device_env.sh"
repo=/tmp/history-repo
rm -rf "$repo" && mkdir -p "$repo" && cp -r benchbench bench suites pyproject.toml "$repo"/ && rm -f "$repo/bench/planted/kernels"
cd "$repo" && git init -q && git -c user.name=bench -c user.email=bench@localhost add -A \
  && git -c user.name=bench -c user.email=bench@localhost commit -qm "base" || exit 1
export PYTHONPATH=$repo/bench/planted:/tmp/site:$repo
for i in 1 2 3 4 5 6 7 8; do
  if [ "$i" = 5 ]; then echo 2 > bench/planted/kernels; git add bench/planted/kernels; msg="MLP: two extra elementwise kernels"
  else msg="commit $i"; fi
  git -c user.name=bench -c user.email=bench@localhost commit -q --allow-empty -m "$msg"
  rm -rf /tmp/history-$i
  tmo 60 python3 -m benchbench.cli run bench/history/suite.yaml -o /tmp/history-$i -q ${SMOKE:+--smoke} 2>&1 | tail -3
  keep_run /tmp/history-$i run-$i
done
git log --format="%H %s" > "$Q_OUT/git-log.txt"
