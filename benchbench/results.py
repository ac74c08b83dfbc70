"""Result rows and the store: one JSON line per (config, repeat), appended atomically.

A run directory holds
    rows.jsonl        the rows, appended as each config finishes (the source of truth)
    run.json          what was run: suite name and hash, baseline config, command, times
    env.json          the machine and software that produced the rows
    suite.yaml        a copy of the suite file
    results.parquet   \\ written from rows.jsonl when the run ends; `benchbench run --resume`
    results.csv       / and the loader rebuild nothing from them
    configs/ logs/ work/   per-config inputs, worker logs and raw worker results
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 1
ROWS = "rows.jsonl"


class StoreError(Exception):
    pass


def make_row(run: dict, cfg, repeat: int, result: dict) -> dict:
    """Flat row: identity, the config's fields, then what the worker measured (units in names)."""
    row = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run["run_id"],
        "suite": run["suite"],
        "config_id": cfg.config_id,
        "repeat": repeat,
        "effective_batch": cfg.effective_batch,
    }
    row.update(cfg.flat())
    row.update(result)
    row.setdefault("reason", None)
    return row


def append(run_dir: str | Path, row: dict):
    """Append one row as one write() of one line on an O_APPEND descriptor, then fsync."""
    line = (json.dumps(row, allow_nan=True, default=str) + "\n").encode()
    fd = os.open(Path(run_dir) / ROWS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_rows(run_dir: str | Path) -> list[dict]:
    """Rows of one run; a torn last line (the parent died mid-write) is skipped with a warning."""
    path = Path(run_dir) / ROWS
    if not path.exists():
        raise StoreError(f"{run_dir}: not a run directory (no {ROWS})")
    rows = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                warnings.warn(f"{path}:{i + 1}: skipped a torn last line", stacklevel=2)
            else:
                raise StoreError(f"{path}:{i + 1}: not a JSON row") from None
    return rows


def recorded(run_dir: str | Path) -> set[tuple[str, int]]:
    """(config_id, repeat) pairs that already have a row."""
    if not (Path(run_dir) / ROWS).exists():
        return set()
    return {(r["config_id"], r["repeat"]) for r in read_rows(run_dir)}


def load(*run_dirs: str | Path) -> pd.DataFrame:
    """One DataFrame of the rows of one or many runs."""
    rows = [r for d in run_dirs for r in read_rows(d)]
    for r in rows:
        if r.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(f"row schema {r.get('schema_version')} in {r.get('run_id')}; this benchbench reads {SCHEMA_VERSION}")
    return pd.DataFrame(rows)


def finalize(run_dir: str | Path):
    """Write results.parquet and results.csv next to rows.jsonl."""
    run_dir = Path(run_dir)
    if not (run_dir / ROWS).exists():
        return
    df = load(run_dir)
    df.to_csv(run_dir / "results.csv", index=False)
    try:
        df.to_parquet(run_dir / "results.parquet", index=False)
    except ImportError as e:  # no pyarrow/fastparquet: CSV and JSONL still hold everything
        warnings.warn(f"results.parquet not written: {e}", stacklevel=2)


def write_json(path: str | Path, data: dict):
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
