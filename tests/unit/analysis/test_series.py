"""analysis/series.py: a run's history records hold compare's statistics, the commit time falls back to the
run's start, the machine fingerprint splits series, and the points of a series pool runs at one commit."""

import pandas as pd
import pytest

from benchbench.analysis import compare, series
from benchbench.store import history, results
from tests.fixtures.runs import CPU_ENV, GPU_ENV, config, write_run


def run(tmp_path, name="r", env=None, median=0.02):
    return write_run(tmp_path / name, [*config("c1", median, attention="eager"), *config("c2", 0.01, attention="sdpa")],
                     env=env or CPU_ENV)


def test_the_record_holds_compares_value_interval_and_repeats(tmp_path):
    d = run(tmp_path)
    rec = series.run_record(d)
    rows = results.load(d)
    got = {(r["config_id"], r["metric"]): r for r in rec["results"]}
    for metric in ("tokens_per_s", "step_time_s", "peak_rss_bytes"):
        v, lo, hi, n = compare.summarize(compare.samples(rows[rows["config_id"] == "c1"], metric)[0], metric)
        r = got[("c1", metric)]
        assert (r["value"], r["ci_low"], r["ci_high"], r["repeats"]) == pytest.approx((v, lo, hi, n))
    reps = [r for r in rec["repeats"] if r["config_id"] == "c1" and r["metric"] == "step_time_s"]
    assert [r["repeat_index"] for r in reps] == [0, 1, 2]
    assert {c["config_id"]: c["label"] for c in rec["configs"]} == {"c1": "attention=eager", "c2": "attention=sdpa"}


def test_commit_time_from_git_else_the_runs_start(tmp_path):
    old = series.run_record(run(tmp_path, "old"))["run"]
    assert old["commit_time_source"] == "run start" and old["commit_time"] == "2026-11-23T12:00:00+00:00"
    assert old["branch"] == "" and old["git_commit"] == ""
    env = {**CPU_ENV, "git_commit": "abc", "git_commit_time": "2026-01-01T00:00:00+00:00", "git_branch": "main"}
    new = series.run_record(run(tmp_path, "new", env))["run"]
    assert (new["commit_time"], new["commit_time_source"], new["branch"]) == ("2026-01-01T00:00:00+00:00", "git", "main")


def test_the_machine_fingerprint_splits_series():
    a = series.fingerprint(GPU_ENV)
    assert series.machine_key(a) == series.machine_key(series.fingerprint({**GPU_ENV, "driver_version": "580.1.2"}))
    for change in ({"driver_version": "590.1"}, {"gpu_count": 2}, {"torch_version": "2.12.0"}, {"hostname": "b"},
                   {"cuda_version": "12.8"}, {"gpu_name": "NVIDIA H200"}):
        assert series.machine_key(series.fingerprint({**GPU_ENV, **change}))[0] != series.machine_key(a)[0]
    assert "1 x NVIDIA H100 80GB HBM3, driver 580" in series.machine_key(a)[1]


def test_not_a_run_is_refused(tmp_path):
    with pytest.raises(results.StoreError, match="not a run directory"):
        series.run_record(tmp_path)


def test_runs_at_one_commit_are_one_point(tmp_path):
    env = {**CPU_ENV, "git_commit": "abc", "git_commit_time": "2026-01-01T00:00:00+00:00"}
    db = tmp_path / "h.duckdb"
    history.add(db, [series.run_record(run(tmp_path, n, env, m)) for n, m in (("a", 0.02), ("b", 0.021))])
    frame, reps = history.results(db, metric="step_time_s"), history.repeat_values(db, metric="step_time_s")
    [(_, cid, _, _, _, pts)] = [s for s in series.series(frame, reps) if s[1] == "c1"]
    assert len(pts) == 1 and pts["runs"].iloc[0] == 2 and len(pts["repeats"].iloc[0]) == 6
    assert 0.02 < pts["value"].iloc[0] < 0.021 and pts["ci_low"].iloc[0] <= pts["value"].iloc[0] <= pts["ci_high"].iloc[0]


def test_where_and_commit_time_lookups():
    frame = pd.DataFrame({"settings": ['{"precision": "bf16"}', '{"precision": "fp32"}'],
                          "git_commit": ["abcdef12", "abcd0000"],
                          "commit_time": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)})
    assert len(series.where(frame, ["precision=bf16"])) == 1
    with pytest.raises(series.SeriesError, match="use key=value"):
        series.where(frame, ["precision"])
    assert series.commit_time(frame, "abcde") == frame["commit_time"][0]
    with pytest.raises(series.SeriesError, match="ambiguous"):
        series.commit_time(frame, "abcd")
    got = series.commit_time(frame, "ab", git_time=lambda rev: "2026-03-01T00:00:00+01:00")  # short: git is asked
    assert got == pd.Timestamp("2026-02-28T23:00:00", tz="UTC")
    with pytest.raises(series.SeriesError, match="no such commit"):
        series.commit_time(frame, "ffff")


def _history(levels, seed=0):
    """history.results()/repeat_values() frames of one series (machine m, config c1) of chosen levels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows, reps = [], []
    for i, level in enumerate(levels):
        vals = level * (1 + rng.normal(0, 0.003)) * (1 + rng.normal(0, 0.002, 3))
        rows.append({"machine": "m", "machine_label": "host m", "config_id": "c1", "label": "gpt tiny",
                     "metric": "tokens_per_s", "status": "ok", "git_commit": f"{i:040x}", "run_key": f"r{i}",
                     "commit_time": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=i), "branch": "main",
                     "value": float(np.median(vals)), "ci_low": float(vals.min()), "ci_high": float(vals.max())})
        reps += [{"machine": "m", "config_id": "c1", "metric": "tokens_per_s", "run_key": f"r{i}", "value": float(v)}
                 for v in vals]
    return pd.DataFrame(rows), pd.DataFrame(reps)


def test_shapes_name_a_drift_the_bad_way_and_two_modes_and_no_change_points_for_them():
    import numpy as np

    frame, reps = _history(1000 * (1 - 0.002 * np.arange(30)))
    s = series.shapes(frame, reps, "tokens_per_s")
    assert list(s["shape"]) == ["drift"] and bool(s["worse"].iloc[0]) and s["change"].iloc[0] < -0.04
    assert s["commits"].iloc[0] == 30 and series.changes(frame, reps, "tokens_per_s").empty
    modes = np.where(np.random.default_rng(5).random(30) < 0.5, 1000.0, 970.0)
    frame, reps = _history(modes, seed=1)
    s = series.shapes(frame, reps, "tokens_per_s")
    assert list(s["shape"]) == ["two modes"] and not s["worse"].iloc[0]
    assert series.changes(frame, reps, "tokens_per_s").empty
    frame, reps = _history([1000.0] * 30, seed=2)
    assert series.shapes(frame, reps, "tokens_per_s").empty
