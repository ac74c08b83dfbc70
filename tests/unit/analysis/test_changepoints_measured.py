"""The history of 8 commits measured on an H200 (results/examples/history-h200, bench/history/run.sh): two
extra elementwise kernels land at commit 5 (8f734e91, git-log.txt). `history add` of the committed rows and
their change points name exactly that commit, for the throughput and for the step time."""

from pathlib import Path

import pytest

from benchbench.analysis import series
from benchbench.commands import history as hist
from benchbench.store import history

EXAMPLE = Path(__file__).resolve().parents[3] / "results" / "examples" / "history-h200"
PLANTED = "8f734e914e33ceea8ee21257762df11905320dbe"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    runs = sorted(EXAMPLE.glob("run-*"))
    if len(runs) != 8:
        pytest.skip(f"{EXAMPLE} is not in this checkout")
    path = tmp_path_factory.mktemp("h") / "history.duckdb"
    hist.add_runs(path, runs)
    return path


def test_the_runs_are_ordered_as_git_log_says(store):
    order = [line.split()[0] for line in (EXAMPLE / "git-log.txt").read_text().splitlines()][::-1][1:]  # oldest first
    r = history.runs(store)
    assert list(r["git_commit"]) == order and set(r["commit_time_source"]) == {"run start"}


@pytest.mark.parametrize("metric,direction", [("tokens_per_s", -1), ("step_time_s", 1)])
def test_exactly_the_planted_commit_is_a_regression(store, metric, direction):
    t = series.changes(history.results(store), history.repeat_values(store), metric)
    assert list(t["commit_after"]) == [PLANTED]
    c = t.iloc[0]
    assert c["verdict"] == "regression" and direction * c["change"] > 0.04
    assert direction * (c["ratio_ci_low"] - 1) > 0 and direction * (c["ratio_ci_high"] - 1) > 0
    assert c["commits_before"] == 4 and c["commits_after"] == 4
