"""The history (DuckDB) and its exports (manifest JSON + parquet), damaged or crafted: exit 2 naming the
file, nothing half-imported; runs added exactly once, a run being written refused, a stale import fixed."""

import fcntl
import json
import shutil

import pandas as pd
import pytest

from benchbench.store import history, results
from tests.fault.conftest import contract
from tests.fixtures import runs


@pytest.fixture
def hist(bb, good_run, tmp_path):
    path = tmp_path / "h.duckdb"
    rc, _, err = bb("history", "add", good_run, "--history-db", path)
    assert rc == 0, err
    return path


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty tables"])
def test_a_damaged_history_is_named_so(bb, hist, tmp_path, damage):
    data = hist.read_bytes()
    if damage == "truncated":
        hist.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        hist.write_bytes(b"\x00garbage" * 1000)
    else:
        hist.unlink()
        import duckdb
        duckdb.connect(str(hist)).execute("CREATE TABLE unrelated (a INTEGER)").close()
    for argv in (("history", "show"), ("history", "regressions"), ("history", "add", tmp_path / "good")):
        rc, _, err = bb(*argv, "--history-db", hist)
        contract(rc, err, hist)
        assert ("not a benchbench history" in err) == (damage == "empty tables"), err


def test_the_same_run_twice_in_one_add_is_added_once(bb, good_run, tmp_path):
    rc, _, err = bb("history", "add", good_run, good_run, "--history-db", tmp_path / "h.duckdb")
    assert rc == 0 and f"added: {good_run}" in err and "unchanged" not in err, err
    assert len(history.runs(tmp_path / "h.duckdb")) == 1


def test_a_run_being_written_is_refused(bb, good_run, tmp_path):
    with open(good_run / ".lock", "w") as lock:  # what `benchbench run` holds while it writes rows
        fcntl.flock(lock, fcntl.LOCK_EX)
        rc, _, err = bb("history", "add", good_run, "--history-db", tmp_path / "h.duckdb")
    contract(rc, err, good_run)
    assert "still being written" in err and not (tmp_path / "h.duckdb").exists()


def test_an_unfinished_run_is_added_as_partial_and_said_so(bb, good_run, tmp_path):
    run = json.loads((good_run / "run.json").read_text())
    run.pop("finished_at")
    (good_run / "run.json").write_text(json.dumps({**run, "config_ids": [*run["config_ids"], "cccccccccccc"]}))
    rc, _, err = bb("history", "add", good_run, "--history-db", tmp_path / "h.duckdb")
    assert rc == 0 and "partial: 2 of 3 configs recorded" in err and "--resume" in err, err


def test_a_history_of_only_failed_runs_says_so(bb, tmp_path):
    d = runs.write_run(tmp_path / "failed", [runs.row("aaaaaaaaaaaa", k, status="error") for k in range(3)])
    path = tmp_path / "h.duckdb"
    assert bb("history", "add", d, "--history-db", path)[0] == 0
    rc, _, err = bb("history", "show", "--history-db", path)
    contract(rc, err, path)
    assert "hold no measured value" in err and "no runs;" not in err


@pytest.fixture
def export_dir(bb, hist, tmp_path):
    d = tmp_path / "shared"
    assert bb("history", "export", d, "--history-db", hist)[0] == 0
    return d


def _manifest(d):
    return next(d.glob("export-*.json"))


def _table(d, name):
    return d / json.loads(_manifest(d).read_text())["tables"][name]


MANIFEST = {
    "tables a list": lambda m: {**m, "tables": ["runs.parquet"]},
    "table name a number": lambda m: {**m, "tables": {**m["tables"], "runs": 5}},
    "version a string": lambda m: {**m, "history_version": "1"},
    "another kind": lambda m: {**m, "kind": "other"},
    "a file outside": lambda m: {**m, "tables": {**m["tables"], "runs": "../../etc/passwd"}},
    "a missing file": lambda m: {**m, "tables": {**m["tables"], "runs": "runs-none.parquet"}},
    "a list, not an object": lambda m: [m],
}
PARQUET = {
    "duplicated repeats": ("repeats", lambda df: pd.concat([df, df])),
    "null run keys": ("runs", lambda df: df.assign(run_key=None)),
    "null config ids": ("results", lambda df: df.assign(config_id=None)),
    "rows of unknown runs": ("configs", lambda df: df.assign(run_key="nosuchrun")),
    "a missing column": ("results", lambda df: df.drop(columns=["value"])),
    "garbage": ("runs", None),
}


@pytest.mark.parametrize("case", [*MANIFEST, *PARQUET])
def test_a_bad_export_is_refused_and_nothing_imported(bb, export_dir, tmp_path, case):
    m = _manifest(export_dir)
    if case in MANIFEST:
        m.write_text(json.dumps(MANIFEST[case](json.loads(m.read_text()))))
        named = m
    else:
        table, change = PARQUET[case]
        named = _table(export_dir, table)
        if change is None:
            named.write_bytes(b"PAR1 garbage")
        else:
            change(pd.read_parquet(named)).to_parquet(named)
    target = tmp_path / "other.duckdb"
    rc, _, err = bb("history", "import", export_dir, "--history-db", target)
    contract(rc, err, named)
    assert not target.exists() or history.runs(target).empty


def test_a_later_import_replaces_a_stale_partial_run(bb, good_run, tmp_path):
    """Machine A exported a run while it was partial, then again after --resume: B ends with the whole run."""
    a, b, shared = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "shared"
    whole = (good_run / results.ROWS).read_bytes()
    (good_run / results.ROWS).write_bytes(b"".join(whole.splitlines(keepends=True)[:4]))
    assert bb("history", "add", good_run, "--history-db", a)[0] == 0
    assert bb("history", "export", shared, "--history-db", a)[0] == 0
    assert bb("history", "import", shared, "--history-db", b)[0] == 0
    (good_run / results.ROWS).write_bytes(whole)  # resumed: all six rows
    rc, _, err = bb("history", "add", good_run, "--history-db", a)
    assert rc == 0 and "replaced" in err, err
    shutil.rmtree(shared)
    assert bb("history", "export", shared, "--history-db", a)[0] == 0
    rc, _, err = bb("history", "import", shared, "--history-db", b)
    assert rc == 0 and "1 replaced by a later export" in err, err
    got = history.runs(b)
    assert len(got) == 1 and got["rows_sha256"].iloc[0] == history.runs(a)["rows_sha256"].iloc[0]
    assert set(history.results(b)["repeats"]) == {3}


def test_history_commands_warn_of_nothing(bb, good_run, tmp_path):
    """No library warning (DuckDB 2's Arrow-copy UserWarning, pandas deprecations) reaches the user."""
    import warnings

    path, shared = tmp_path / "h.duckdb", tmp_path / "shared"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for argv in (("add", good_run), ("show",), ("regressions",), ("export", shared), ("import", shared)):
            rc, _, err = bb("history", *argv, "--history-db", path)
            assert rc in (0, 1) and "Warning" not in err, (argv, err)


def test_two_adds_at_once_both_land(good_run, tmp_path):
    import os
    import subprocess
    import sys

    other = runs.write_run(tmp_path / "other", runs.config("cccccccccccc", 0.2), sha="def")
    path = tmp_path / "h.duckdb"
    env = {**os.environ, "NO_COLOR": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "benchbench.cli", "history", "add", d, "--history-db", path],
                              stderr=subprocess.PIPE, text=True, env=env) for d in (good_run, other)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "Warning" not in err, err
    assert len(history.runs(path)) == 2
