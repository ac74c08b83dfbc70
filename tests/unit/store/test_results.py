"""The store: rows appended one line each, torn lines, the loader, atomic writes."""

import json
import math
import os

import pandas as pd
import pytest

from benchbench.spec.config import RunConfig
from benchbench.store import results
from benchbench.store.results import ROWS, SCHEMA_VERSION, StoreError

RUN = {"run_id": "r1", "suite": "unit"}


def row(cfg=None, repeat=0, **result):
    cfg = cfg or RunConfig(device="cpu")
    return results.make_row(RUN, cfg, repeat, {"status": "ok", **result})


def test_make_row_is_flat_and_identified():
    cfg = RunConfig(model_args={"n_layer": 2}, batch_size=4, grad_accum=2)
    r = results.make_row(RUN, cfg, 1, {"status": "ok", "samples_per_s": 10.0})
    assert (r["schema_version"], r["run_id"], r["suite"], r["config_id"], r["repeat"]) == (SCHEMA_VERSION, "r1", "unit", cfg.config_id, 1)
    assert (r["effective_batch"], r["batch_size"], r["model_args"]) == (8, 4, '{"n_layer": 2}')
    assert r["reason"] is None and r["samples_per_s"] == 10.0
    assert not any(isinstance(v, dict) for v in r.values())


def test_append_writes_one_line_per_row(tmp_path):
    rows = [row(repeat=i, samples_per_s=float(i), note="multi\nline", loss=float("nan")) for i in range(3)]
    for r in rows:
        results.append(tmp_path, r)
    lines = (tmp_path / ROWS).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4  # three lines, each ended
    back = results.read_rows(tmp_path)
    assert [r["repeat"] for r in back] == [0, 1, 2]
    assert back[0]["note"] == "multi\nline" and math.isnan(back[0]["loss"])
    assert results.recorded(tmp_path) == {(rows[0]["config_id"], i) for i in range(3)}


def test_recorded_of_a_fresh_directory_is_empty(tmp_path):
    assert results.recorded(tmp_path) == set()


def test_torn_last_line_is_skipped_with_a_warning(tmp_path, capsys):
    results.append(tmp_path, row(repeat=0))
    with open(tmp_path / ROWS, "ab") as f:
        f.write(json.dumps(row(repeat=1)).encode()[:40])  # the parent died mid-write
    rows = results.read_rows(tmp_path)
    assert [r["repeat"] for r in rows] == [0]
    assert "rows.jsonl:2: not a row: not JSON (a torn or damaged line) (skipped; the line stays in the file)" in capsys.readouterr().err


def test_append_after_a_torn_line_keeps_both_rows_readable(tmp_path):
    results.append(tmp_path, row(repeat=0))
    with open(tmp_path / ROWS, "ab") as f:
        f.write(b'{"schema_version": 1, "run_id": "r1", "con')
    results.append(tmp_path, row(repeat=1))  # a resumed run appends its next row (cutting the torn line)
    results.append(tmp_path, row(repeat=2))
    assert [r["repeat"] for r in results.read_rows(tmp_path)] == [0, 1, 2]


def test_append_after_a_torn_first_line(tmp_path):
    (tmp_path / ROWS).write_bytes(b'{"schema_version"')
    results.append(tmp_path, row(repeat=3))
    assert [r["repeat"] for r in results.read_rows(tmp_path)] == [3]


def test_a_garbage_line_is_read_past_once_named_and_kept(tmp_path, capsys):
    good = json.dumps(row()).encode()
    (tmp_path / ROWS).write_bytes(good + b"\n" + good[:25] + b"\n" + b"[1, 2]\n" + good + b"\n")
    assert len(results.read_rows(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "rows.jsonl:2: not a row" in err and "rows.jsonl:3: not a row" in err and "Warning" not in err
    assert (tmp_path / ROWS).read_bytes().count(b"\n") == 4      # nothing removed from the file


def test_blank_lines_are_ignored(tmp_path):
    good = json.dumps(row()).encode()
    (tmp_path / ROWS).write_bytes(good + b"\n\n" + good + b"\n")
    assert len(results.read_rows(tmp_path)) == 2


def test_not_a_run_directory(tmp_path):
    with pytest.raises(StoreError, match=r"not a run directory \(no rows.jsonl\)"):
        results.read_rows(tmp_path)


def test_load_several_run_dirs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    cfg1, cfg2 = RunConfig(precision="fp32"), RunConfig(precision="bf16")
    results.append(a, row(cfg1, 0, samples_per_s=1.0))
    results.append(a, row(cfg1, 1, samples_per_s=2.0))
    results.append(b, {**row(cfg2, 0, samples_per_s=3.0), "run_id": "r2"})
    df = results.load(a, b)
    assert isinstance(df, pd.DataFrame)
    assert list(df["samples_per_s"]) == [1.0, 2.0, 3.0]
    assert list(df["run_id"]) == ["r1", "r1", "r2"]
    assert list(df["precision"]) == ["fp32", "fp32", "bf16"]


def test_load_refuses_another_schema_version(tmp_path):
    results.append(tmp_path, row())
    results.append(tmp_path, {**row(repeat=1), "schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(StoreError) as e:
        results.load(tmp_path)
    assert str(e.value) == (f"{tmp_path / ROWS}: rows of schema_version {SCHEMA_VERSION + 1} (run r1); "
                            f"this benchbench reads schema_version {SCHEMA_VERSION}")


def test_finalize_writes_parquet_and_csv(tmp_path):
    results.append(tmp_path, row(samples_per_s=5.0, step_times_s=[0.1, 0.2]))
    results.append(tmp_path, row(RunConfig(precision="bf16"), 0, status="error", reason="boom", error_type="ValueError"))
    results.finalize(tmp_path)
    pq, csv = pd.read_parquet(tmp_path / "results.parquet"), pd.read_csv(tmp_path / "results.csv")
    for df in (pq, csv):
        assert list(df["status"]) == ["ok", "error"]
        assert df["samples_per_s"].iloc[0] == 5.0 and pd.isna(df["samples_per_s"].iloc[1])
        assert df["reason"].iloc[1] == "boom"
    assert list(pq["step_times_s"].iloc[0]) == [0.1, 0.2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "results.parquet", ROWS]  # no temporaries


def test_finalize_without_rows_writes_nothing(tmp_path):
    results.finalize(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_finalize_is_atomic(tmp_path, monkeypatch):
    results.append(tmp_path, row(samples_per_s=1.0))
    results.finalize(tmp_path)
    before = (tmp_path / "results.parquet").read_bytes()
    results.append(tmp_path, row(repeat=1, samples_per_s=2.0))

    def crash(self, path, **kw):
        with open(path, "wb") as f:
            f.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(OSError, match="disk full"):
        results.finalize(tmp_path)
    assert (tmp_path / "results.parquet").read_bytes() == before  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "results.parquet", ROWS]


def test_write_json_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    results.write_json(path, {"a": 1, "when": pd.Timestamp("2024-01-01")})
    assert results.read_json(path) == {"a": 1, "when": "2024-01-01 00:00:00"}
    real_replace = os.replace

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        results.write_json(path, {"a": 2})
    monkeypatch.setattr(os, "replace", real_replace)
    assert results.read_json(path) == {"a": 1, "when": "2024-01-01 00:00:00"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary left behind
