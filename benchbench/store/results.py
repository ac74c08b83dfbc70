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

import errno
import json
import os
import sys
from pathlib import Path

import pandas as pd

from benchbench.basics.errors import DamagedFile, UserError

SCHEMA_VERSION = 1
ROWS = "rows.jsonl"

# DamagedFile (basics/errors.py): a JSON file benchbench wrote that no longer reads as one, exit 2 naming it
StoreError = UserError  # a run directory that cannot be read or written
# RowNotWritten: rows.jsonl refused a row (full disk, quota, permissions): names the file and the resume
RowNotWritten = UserError


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
    """Append one row as one write() of one line on an O_APPEND descriptor, then fsync.

    A torn last line (a writer died mid-write) is cut first: the new row must start a line of its
    own, else it would be glued to the fragment and both lost (and the file unreadable once a
    third row follows)."""
    line = (json.dumps(row, allow_nan=True, default=str) + "\n").encode()
    path = Path(run_dir) / ROWS
    try:
        _cut_torn_tail(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.write(fd, line) != len(line):  # a full disk can take part of a line: the next append cuts it
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise RowNotWritten(f"{path}: cannot write a row ({e.strerror or e}); the rows before it are kept. "
                            f"{'Free some space, ' if e.errno in (errno.ENOSPC, errno.EDQUOT) else 'Fix that, '}"
                            f"then continue with: benchbench run --resume {Path(run_dir)}") from None


def _cut_torn_tail(path: Path):
    try:
        f = open(path, "rb+")
    except FileNotFoundError:
        return
    with f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        end, block = size, 1 << 16
        while end > 0:  # find the last newline; the fragment after it is the torn row
            start = max(0, end - block)
            f.seek(start)
            i = f.read(end - start).rfind(b"\n")
            if i >= 0:
                end = start + i + 1
                break
            end = start
        f.seek(end)
        if _is_row(f.read(size - end)):  # a whole row missing only its newline (written by hand or a tool)
            f.seek(size)
            f.write(b"\n")
            f.flush()
            os.fsync(f.fileno())
            return
        f.truncate(end)
        f.flush()
        os.fsync(f.fileno())
    notice(f"{path}: cut a torn last line ({size - end} bytes, a row that was never completed)")


def _is_row(data: bytes) -> bool:
    try:
        row = json.loads(data)
    except ValueError:
        return False
    return row_problem(row) is None


_told: set = set()


def notice(msg: str):
    """One line on stderr, once per process: what a reader skipped and why (no Python warning text)."""
    if msg not in _told:
        _told.add(msg)
        print(f"warning: {msg}", file=sys.stderr)


def read_rows(run_dir: str | Path) -> list[dict]:
    """Rows of one run. A line that is not a JSON row (a torn last line, a line damaged by hand) is
    skipped with a one-line notice naming it; the file keeps it."""
    path = Path(run_dir) / ROWS
    if not path.exists():
        raise StoreError(f"{run_dir}: not a run directory (no {ROWS})")
    rows = []
    for i, line in enumerate(path.read_text(errors="replace").splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        problem = row_problem(row, line)
        if problem:
            notice(f"{path}:{i + 1}: not a row: {problem} (skipped; the line stays in the file)")
            continue
        rows.append(row)
    return rows


# columns with a unit (or a plain ratio) hold numbers: a number, null, or a list of them (step_times_s)
NUMERIC_SUFFIXES = ("_s", "_us", "_bytes", "_per_s", "_j", "_w", "_mhz", "_pct", "_frac", "_cv", "_n")


def row_problem(row, line: str = "") -> str | None:
    """Why a parsed line is not a row benchbench wrote (None when it is one): readers skip such lines."""
    if row is None:
        return "not JSON (a torn or damaged line)"
    if not isinstance(row, dict):
        return "not a JSON object"
    if not isinstance(row.get("config_id"), str) or not isinstance(row.get("repeat"), int) or \
            isinstance(row.get("repeat"), bool):
        return "config_id must be a string and repeat a whole number"
    if not isinstance(row.get("status", ""), str):
        return "status must be a string"
    bad = [k for k, v in row.items() if isinstance(v, (str, dict)) and (k.endswith(NUMERIC_SUFFIXES) or k in ("mfu", "hfu"))]
    if bad:
        return f"{bad[0]} must be a number"
    if "\\u" in line:  # a lone surrogate escape (\ud800) parses, then breaks every writer of the text
        try:
            line.encode("utf-8") and json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return "a lone surrogate in a text"
    return None


def completeness(run_dir: str | Path) -> str | None:
    """'3 of 4 configs recorded (6 of 8 runs)' when a run holds fewer rows than its sweep owes; None when whole."""
    try:
        run = read_json(Path(run_dir) / "run.json")
    except (OSError, ValueError):
        return None
    rows = read_rows(run_dir)
    ids, expected = run.get("config_ids") or [], run.get("expected_runs")
    got_ids = {r["config_id"] for r in rows}
    missing = [c for c in ids if c not in got_ids]
    short = expected is not None and len(rows) < expected
    if not missing and not short:
        return None
    runs = f" ({len(rows)} of {expected} runs)" if expected is not None else ""
    why = " (interrupted: benchbench run --resume " + str(run_dir) + ")" if run.get("interrupted") else ""
    return f"{len(ids) - len(missing)} of {len(ids)} configs recorded{runs}{why}"


def recorded(run_dir: str | Path) -> set[tuple[str, int]]:
    """(config_id, repeat) pairs that already have a row."""
    if not (Path(run_dir) / ROWS).exists():
        return set()
    return {(r["config_id"], r["repeat"]) for r in read_rows(run_dir)}


def load(*run_dirs: str | Path) -> pd.DataFrame:
    """One DataFrame of the rows of one or many runs."""
    rows = []
    for d in run_dirs:
        for r in read_rows(d):
            if r.get("schema_version") != SCHEMA_VERSION:
                raise StoreError(f"{Path(d) / ROWS}: rows of schema_version {r.get('schema_version')} (run "
                                 f"{r.get('run_id')}); this benchbench reads schema_version {SCHEMA_VERSION}")
            rows.append(r)
    return pd.DataFrame(rows)


def finalize(run_dir: str | Path):
    """Write results.parquet and results.csv next to rows.jsonl (each whole or not at all)."""
    run_dir = Path(run_dir)
    if not (run_dir / ROWS).exists():
        return
    df = load(run_dir)
    write_atomic(run_dir / "results.csv", lambda tmp: df.to_csv(tmp, index=False))
    try:
        write_atomic(run_dir / "results.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    except ImportError as e:  # no pyarrow/fastparquet: CSV and JSONL still hold everything
        notice(f"results.parquet not written: {e}")


def write_atomic(path: str | Path, write):
    """write(tmp) next to `path`, then rename over it: readers see the old file or the new, never half
    (a full disk or a crash mid-write leaves the old file whole). Every file benchbench writes goes here."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:  # name the file the user knows, not the temporary one
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None
    finally:
        if os.path.lexists(tmp):  # on a read-only file system unlink fails (EROFS) even with nothing to remove
            tmp.unlink()


def write_json(path: str | Path, data: dict):
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_text(path: str | Path, text: str):
    """A text file (UTF-8) written beside, then renamed over `path`."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))




def read_json(path: str | Path) -> dict:
    """A JSON object file (run.json, env.json, a baseline); DamagedFile names the file when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        raise DamagedFile(f"{path}: not a JSON file (truncated or edited?: {str(e).splitlines()[0][:120]}); restore "
                          "it, or re-create the run") from None
    if not isinstance(data, dict):
        raise DamagedFile(f"{path}: holds a JSON {type(data).__name__}, not an object; restore it, or re-create the run")
    for key, kinds in SHAPES.get(Path(path).name, {}).items():
        v = data.get(key)
        if v is not None and (not isinstance(v, kinds) or (isinstance(v, bool) and bool not in kinds) or
                              (key == "config_ids" and not all(isinstance(c, str) for c in v))):
            want = " or ".join(k.__name__ for k in kinds)
            raise DamagedFile(f"{path}: {key} must be {want}, not {type(v).__name__} {str(v)[:40]!r}; the file was "
                              "edited or damaged: restore it, or re-create the run")
    return data


_NUM, _STR = (int, float), (str,)
# the keys readers rely on, with their types (null is allowed: older files lack some)
SHAPES = {
    "run.json": {"run_id": _STR, "suite": _STR, "suite_sha256": _STR, "smoke": (bool,), "overrides": (dict,),
                 "baseline_config_id": _STR, "config_ids": (list,), "only": (list,), "started_at": _STR,
                 "finished_at": _STR, "interrupted": (bool,), "expected_runs": (int,), "wall_s": _NUM,
                 "measured_s": _NUM, "gpu_busy_s": _NUM, "gpus": (list,), "command": (list,)},
    "env.json": {"hostname": _STR, "python": _STR, "cpu_model": _STR, "cpu_count": (int,), "gpu_count": (int,),
                 "gpu_name": _STR, "gpus": (list,), "driver_version": _STR, "cuda_version": _STR, "torch_version": _STR,
                 "git_commit": _STR, "git_commit_time": _STR, "git_branch": _STR, "git_dirty": (bool,),
                 "noise_start": (dict,), "noise_end": (dict,)},
}
