"""Benchmarks of the history (store/history.py, commands/history.py): adding 1,000 runs of 50 configs,
then `history show` and `history regressions` over all of it. As in test_hot_paths.py, the normal test
run executes each body once and checks only results; time them with --benchmark-enable."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from benchbench.analysis import series
from benchbench.commands import history as hist
from benchbench.store import history
from tests.unit.store.test_history import record

N_RUNS, N_CONFIGS, REPEATS = 1000, 50, 3


def records(n_runs=N_RUNS, n_configs=N_CONFIGS):
    """What `history add` hands the store for n_runs runs of n_configs configs (3 repeats, one metric): config
    c07's throughput drops 10% at run 600."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n_runs):
        rec = record(f"run{i:04d}", f"{i:04d}" + "0" * 36, "2026-01-01T00:00:00+00:00")
        rec["run"]["commit_time"] = rec["run"]["started_at"] = f"2026-{1 + i // 600:02d}-01T00:00:00+00:00"
        rec["run"]["commit_time"] = str(np.datetime64("2026-01-01T00:00:00") + np.timedelta64(i, "h")) + "+00:00"
        rec["configs"], rec["results"], rec["repeats"] = [], [], []
        for c in range(n_configs):
            cid = f"c{c:02d}"
            level = 1000.0 * (0.9 if c == 7 and i >= 600 else 1.0) * (1 + rng.normal(0, 0.004))
            values = level * (1 + rng.normal(0, 0.003, REPEATS))
            rec["configs"].append({"config_id": cid, "label": cid, "status": "ok", "repeats": REPEATS,
                                   "repeats_ok": REPEATS, "settings": "{}"})
            rec["results"].append({"config_id": cid, "metric": "tokens_per_s", "value": float(np.median(values)),
                                   "ci_low": float(values.min()), "ci_high": float(values.max()), "repeats": REPEATS,
                                   "samples": "steps"})
            rec["repeats"] += [{"config_id": cid, "metric": "tokens_per_s", "repeat_index": k, "value": float(v)}
                               for k, v in enumerate(values)]
        out.append(rec)
    return out


@pytest.fixture(scope="module")
def recs():
    return records()


def test_history_add_1000_runs_of_50_configs(benchmark, recs, tmp_path_factory):
    def add():
        path = tmp_path_factory.mktemp("add") / "h.duckdb"
        return path, history.add(path, recs)

    path, done = benchmark.pedantic(add, rounds=1, iterations=1)
    assert len(done) == N_RUNS and set(done.values()) == {"added"}
    assert len(history.repeat_values(path)) == N_RUNS * N_CONFIGS * REPEATS


@pytest.fixture(scope="module")
def filled(recs, tmp_path_factory):
    path = tmp_path_factory.mktemp("filled") / "h.duckdb"
    history.add(path, recs)
    return path


def args(path, **kw):
    return argparse.Namespace(history_db=str(path), suite=None, metric=None, config=None, where=None, branch=None, **kw)


def test_history_show_over_1000_runs(benchmark, filled):
    def show():
        frame, reps, metric = hist.load(args(filled))
        return hist.trend(frame, reps)

    t = benchmark.pedantic(show, rounds=1, iterations=1)
    assert len(t) == N_RUNS * N_CONFIGS
    marked = t[t["change_point"] != ""]
    assert list(marked["config_id"]) == ["c07"] and marked["git_commit"].iloc[0].startswith("0600")


def test_history_regressions_over_1000_runs(benchmark, filled):
    def regressions():
        frame, reps, metric = hist.load(args(filled))
        return series.changes(frame, reps, metric)

    t = benchmark.pedantic(regressions, rounds=1, iterations=1)
    assert list(t["config_id"]) == ["c07"] and t["commit_after"].iloc[0].startswith("0600")
