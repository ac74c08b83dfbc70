"""store/history.py: records in and out of the DuckDB file, idempotent adds, a replaced run, export and
import through parquet, the lock, and refusals (a corrupted file, a newer schema, a missing store)."""

import json
import threading

import duckdb
import pytest

from benchbench.store import history


def record(key: str, commit: str, when: str, value: float = 100.0, sha: str = "s1", machine: str = "m1") -> dict:
    run = {c: None for c in history.COLUMNS["runs"]}
    run.update(run_key=key, run_id=key, suite="s", smoke=False, started_at=when, git_commit=commit, commit_time=when,
               commit_time_source="git", branch="main", dirty=False, machine=machine, machine_label=machine, gpu_count=0,
               host="h", run_dir=f"/runs/{key}", rows_sha256=sha)
    return {"run": run,
            "configs": [{"config_id": "c1", "label": "gpt tiny", "status": "ok", "repeats": 3, "repeats_ok": 3,
                         "settings": json.dumps({"model": "gpt"})}],
            "results": [{"config_id": "c1", "metric": "tokens_per_s", "value": value, "ci_low": value - 1,
                         "ci_high": value + 1, "repeats": 3, "samples": "steps"}],
            "repeats": [{"config_id": "c1", "metric": "tokens_per_s", "repeat_index": i, "value": value + i - 1}
                        for i in range(3)]}


def test_add_is_idempotent_and_a_changed_run_is_replaced(tmp_path):
    path = tmp_path / "h.duckdb"
    assert history.add(path, [record("a", "c0", "2026-01-01T00:00:00+00:00")]) == {"a": "added"}
    assert history.add(path, [record("a", "c0", "2026-01-01T00:00:00+00:00")]) == {"a": "unchanged"}
    assert len(history.results(path)) == 1 and len(history.repeat_values(path)) == 3
    assert history.add(path, [record("a", "c0", "2026-01-01T00:00:00+00:00", 90.0, sha="s2")]) == {"a": "replaced"}
    r = history.results(path)
    assert list(r["value"]) == [90.0] and len(history.repeat_values(path)) == 3


def test_results_are_oldest_commit_first_and_filter(tmp_path):
    path = tmp_path / "h.duckdb"
    history.add(path, [record("b", "c1", "2026-01-02T00:00:00+00:00"), record("a", "c0", "2026-01-01T00:00:00+00:00"),
                       record("x", "c9", "2026-01-03T00:00:00+00:00", machine="m2")])
    assert list(history.results(path)["git_commit"]) == ["c0", "c1", "c9"]
    assert list(history.results(path, machine="m1")["run_key"]) == ["a", "b"]
    assert list(history.results(path, run_key=["b", "x"])["run_key"]) == ["b", "x"]
    assert history.results(path, metric="nope").empty


def test_export_then_import_into_another_store_adds_only_what_is_missing(tmp_path):
    a, b, shared = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "shared"
    history.add(a, [record("r1", "c0", "2026-01-01T00:00:00+00:00")])
    history.export(a, shared)
    history.add(b, [record("r2", "c1", "2026-01-02T00:00:00+00:00")])
    history.export(b, shared)   # two machines, one folder: nothing overwritten
    assert len(list(shared.glob("export-*.json"))) == 2 and len(list(shared.glob("*.parquet"))) == 8
    c = tmp_path / "c.duckdb"
    assert history.import_exports(c, shared) == (2, 0, 0)
    assert history.import_exports(c, shared) == (0, 2, 0)
    assert sorted(history.results(c)["run_key"]) == ["r1", "r2"] and len(history.repeat_values(c)) == 6


def test_an_export_of_a_newer_version_is_refused_before_anything_is_written(tmp_path):
    a, shared = tmp_path / "a.duckdb", tmp_path / "shared"
    history.add(a, [record("r1", "c0", "2026-01-01T00:00:00+00:00")])
    history.export(a, shared)
    m = next(shared.glob("export-*.json"))
    m.write_text(json.dumps({**json.loads(m.read_text()), "history_version": history.HISTORY_VERSION + 1}))
    with pytest.raises(history.HistoryError, match="newer benchbench"):
        history.import_exports(tmp_path / "c.duckdb", shared)
    assert not (tmp_path / "c.duckdb").exists()
    with pytest.raises(history.HistoryError, match="no export"):
        history.import_exports(tmp_path / "c.duckdb", tmp_path)


def test_a_corrupted_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "h.duckdb"
    path.write_bytes(b"not a database at all" * 100)
    for call in (lambda: history.results(path), lambda: history.add(path, [record("a", "c", "2026-01-01")])):
        with pytest.raises(history.HistoryError, match="not a readable history store"):
            call()
    assert path.read_bytes() == b"not a database at all" * 100


def test_a_newer_schema_and_a_foreign_duckdb_file_are_refused(tmp_path):
    path = tmp_path / "h.duckdb"
    history.add(path, [record("a", "c0", "2026-01-01T00:00:00+00:00")])
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'history_version'")
    con.close()
    for call in (lambda: history.results(path), lambda: history.add(path, [record("b", "c1", "2026-01-02")])):
        with pytest.raises(history.HistoryError, match="history_version 99 was written by a newer benchbench"):
            call()
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INTEGER)").close()
    with pytest.raises(history.HistoryError, match="not a benchbench history"):
        history.results(other)


def test_a_migration_runs_on_an_older_store(tmp_path, monkeypatch):
    path = tmp_path / "h.duckdb"
    history.add(path, [record("a", "c0", "2026-01-01T00:00:00+00:00")])
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '0' WHERE key = 'history_version'")
    con.close()
    monkeypatch.setitem(history.MIGRATIONS, 0, ["ALTER TABLE runs ADD COLUMN note VARCHAR"])
    assert len(history.results(path)) == 1
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'history_version'").fetchone()[0] == "1"
    assert "note" in [c[0] for c in con.execute("DESCRIBE runs").fetchall()]
    con.close()


def test_a_missing_store_is_not_created_by_a_reader(tmp_path):
    with pytest.raises(history.HistoryError, match="no history there"):
        history.results(tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()


def test_two_writers_at_once_wait_for_each_other_and_lose_nothing(tmp_path):
    path = tmp_path / "h.duckdb"
    history.add(path, [record("seed", "c", "2026-01-01T00:00:00+00:00")])
    errors = []

    def add(i):
        try:
            history.add(path, [record(f"r{i}", f"c{i}", f"2026-01-02T00:00:{i:02d}+00:00")])
        except Exception as e:  # pragma: no cover - the assertion below names it
            errors.append(e)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(history.runs(path)) == 7


def test_resolve_path_prefers_the_flag_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(history.ENV_VAR, raising=False)
    assert history.resolve_path(None) == history.DEFAULT_PATH
    monkeypatch.setenv(history.ENV_VAR, str(tmp_path / "env.duckdb"))
    assert history.resolve_path(None) == tmp_path / "env.duckdb"
    assert history.resolve_path("x.duckdb").name == "x.duckdb"
