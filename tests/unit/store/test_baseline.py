"""baselines/<name>.json: what a saved file holds, loading it back, and every refusal with what to do."""

import json

import pytest

from benchbench.analysis import compare
from benchbench.store import baseline, results
from tests.fixtures.runs import CPU_ENV, config, row, write_run


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "run", [*config("c1", 0.1), *config("c2", 0.2, attention="sdpa", seed=2),
                                        row("c3", 0, status="oom", attention="flex")])


def test_save_and_load_round_trip(run_dir, tmp_path):
    digest = compare.config_summary(results.load(run_dir))
    path = baseline.save(run_dir, "cpu-x", tmp_path / "baselines", ["tokens_per_s:-5%"], note="from A/A",
                         summary=digest)
    assert path == tmp_path / "baselines" / "cpu-x.json"
    data = json.loads(path.read_text())
    assert (data["kind"], data["baseline_version"], data["name"]) == ("benchbench-baseline", 1, "cpu-x")
    assert (data["suite"], data["suite_sha256"], data["smoke"]) == ("quickstart", "abc", False)
    assert data["env"] == CPU_ENV and data["rules"] == ["tokens_per_s:-5%"] and data["note"] == "from A/A"
    summary = {s["config_id"]: s for s in data["summary"]}
    assert summary["c3"]["status"] == "oom" and "tokens_per_s" not in summary["c3"]
    tps = summary["c1"]["tokens_per_s"]
    assert tps["n"] == 3 and tps["samples"] == "steps" and tps["ci_low"] <= tps["value"] <= tps["ci_high"]
    assert len(data["rows"]) == 7 and len(data["rows"][0]["step_times_s"]) == 20  # raw samples kept
    b = baseline.load(path)
    assert b.rules == ["tokens_per_s:-5%"] and b.env == CPU_ENV
    # the stored rows compare exactly like the run's own
    t1 = compare.compare(results.load(run_dir), b.rows)
    assert set(t1["verdict"]) == {"same"} and list(t1["ratio"][:2]) == [1.0, 1.0]


def test_save_refuses_bad_names_overwrites_and_unfinished_runs(run_dir, tmp_path):
    with pytest.raises(baseline.BaselineError, match="letters, digits"):
        baseline.save(run_dir, "../evil", tmp_path)
    baseline.save(run_dir, "x", tmp_path)
    with pytest.raises(baseline.BaselineError, match="exists.*--force"):
        baseline.save(run_dir, "x", tmp_path)
    baseline.save(run_dir, "x", tmp_path, force=True)
    run = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**run, "interrupted": True}))
    with pytest.raises(baseline.BaselineError, match="interrupted.*--resume"):
        baseline.save(run_dir, "y", tmp_path)
    with pytest.raises(results.StoreError, match="not a run directory"):
        baseline.save(tmp_path / "nothing", "z", tmp_path)


def _rewrite(path, **changes):
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


@pytest.fixture
def saved(run_dir, tmp_path):
    return baseline.save(run_dir, "b", tmp_path / "baselines")


def test_load_refusals_say_what_to_do(saved, tmp_path):
    with pytest.raises(baseline.BaselineError, match="no such baseline file; baselines/ holds: b.json"):
        baseline.load(saved.parent / "missing.json")
    bad = tmp_path / "baselines" / "bad.json"
    bad.write_text("{")
    with pytest.raises(baseline.BaselineError, match="bad.json: not JSON"):
        baseline.load(bad)
    bad.write_text("{}")
    with pytest.raises(baseline.BaselineError, match="not a benchbench baseline.*baseline save RUN --name bad"):
        baseline.load(bad)
    _rewrite(saved, baseline_version=99)
    with pytest.raises(baseline.BaselineError, match="version 99 was written by a newer benchbench.*pip install -U"):
        baseline.load(saved)
    _rewrite(saved, baseline_version=0)
    with pytest.raises(baseline.BaselineError, match="older than 1 and cannot be migrated; re-create it.*"
                                                     "benchbench run suites/quickstart.yaml -o RUN && benchbench "
                                                     "baseline save RUN --name b --force"):
        baseline.load(saved)


def test_older_versions_are_migrated(saved, monkeypatch):
    data = json.loads(saved.read_text())
    old = {k: v for k, v in data.items() if k != "rules"} | {"baseline_version": 0, "gate_rules": ["tokens_per_s:-7%"]}
    saved.write_text(json.dumps(old))

    def v0_to_v1(d):
        d = dict(d)
        d["rules"] = d.pop("gate_rules")
        d["baseline_version"] = 1
        return d

    monkeypatch.setitem(baseline.MIGRATIONS, 0, v0_to_v1)
    assert baseline.load(saved).rules == ["tokens_per_s:-7%"]


def test_rows_of_another_schema_are_refused(saved):
    data = json.loads(saved.read_text())
    data["rows"][0]["schema_version"] = 0
    saved.write_text(json.dumps(data))
    with pytest.raises(baseline.BaselineError, match=r"rows of schema_version \[0\].*reads rows of schema_version 1"):
        baseline.load(saved)


def test_the_file_is_strict_json(tmp_path):
    d = write_run(tmp_path / "run", [*config("c1", 0.1, mfu=float("nan"))])
    path = baseline.save(d, "strict", tmp_path)

    def refuse(c):
        raise ValueError(c)

    data = json.loads(path.read_text(), parse_constant=refuse)   # no NaN/Infinity tokens
    assert data["rows"][0]["mfu"] is None
