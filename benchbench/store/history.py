"""The history of runs: one embedded DuckDB file (default results/history.duckdb), no server.

Tables (HISTORY_VERSION 1):

    meta      key/value: history_version
    runs      one row per ingested run: run_key (the identity that makes `history add` idempotent),
              run_id, suite, smoke, started_at, the project's git_commit / commit_time (committer
              time; the run's start when the run did not record it: commit_time_source) / branch /
              dirty, the machine fingerprint (machine: a short hash of gpu_name, gpu_count,
              driver_major, torch_version, cuda_version, host; each also a column), run_dir,
              rows_sha256 (what the run held when added), added_at
    configs   one row per (run, config): label, status, repeats, repeats_ok, settings (JSON)
    results   one row per (run, config, metric): value, ci_low, ci_high, repeats (ok repeats with a
              value), samples (steps|repeats): the statistics compare and gate use
    repeats   one row per (run, config, metric, repeat): that repeat's value (its median step, ...)

A series is (machine, config_id, metric): rows of different machines or software never meet.

Every open holds a lock file next to the database (PATH.lock; fcntl): writers exclusive, readers
shared, so two `history add` at once run one after the other and nothing is lost. This module takes
and returns plain records and DataFrames; what goes into them is analysis/series.py's business.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import time
from pathlib import Path

import pandas as pd

from benchbench.basics.errors import UserError
from benchbench.basics import signals
from benchbench.store.disk import write_hint

KIND = "benchbench-history"
HISTORY_VERSION = 1
DEFAULT_PATH = Path("results") / "history.duckdb"
ENV_VAR = "BENCHBENCH_HISTORY"
LOCK_TIMEOUT_S = float(os.environ.get("BENCHBENCH_HISTORY_LOCK_TIMEOUT", "600"))
TABLES = ("runs", "configs", "results", "repeats")
# history_version -> SQL statements that turn a store of that version into the next; none yet
MIGRATIONS: dict[int, list[str]] = {}

SCHEMA = [
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE runs (run_key VARCHAR PRIMARY KEY, run_id VARCHAR, suite VARCHAR, smoke BOOLEAN,
        started_at TIMESTAMPTZ, git_commit VARCHAR, commit_time TIMESTAMPTZ, commit_time_source VARCHAR,
        branch VARCHAR, dirty BOOLEAN, machine VARCHAR, machine_label VARCHAR, gpu_name VARCHAR, gpu_count INTEGER,
        driver_major VARCHAR, torch_version VARCHAR, cuda_version VARCHAR, host VARCHAR, run_dir VARCHAR,
        rows_sha256 VARCHAR, added_at TIMESTAMPTZ)""",
    """CREATE TABLE configs (run_key VARCHAR, config_id VARCHAR, label VARCHAR, status VARCHAR, repeats INTEGER,
        repeats_ok INTEGER, settings VARCHAR, PRIMARY KEY (run_key, config_id))""",
    """CREATE TABLE results (run_key VARCHAR, config_id VARCHAR, metric VARCHAR, value DOUBLE, ci_low DOUBLE,
        ci_high DOUBLE, repeats INTEGER, samples VARCHAR, PRIMARY KEY (run_key, config_id, metric))""",
    """CREATE TABLE repeats (run_key VARCHAR, config_id VARCHAR, metric VARCHAR, repeat_index INTEGER,
        value DOUBLE)""",
]
COLUMNS = {
    "runs": ["run_key", "run_id", "suite", "smoke", "started_at", "git_commit", "commit_time", "commit_time_source",
             "branch", "dirty", "machine", "machine_label", "gpu_name", "gpu_count", "driver_major", "torch_version",
             "cuda_version", "host", "run_dir", "rows_sha256", "added_at"],
    "configs": ["run_key", "config_id", "label", "status", "repeats", "repeats_ok", "settings"],
    "results": ["run_key", "config_id", "metric", "value", "ci_low", "ci_high", "repeats", "samples"],
    "repeats": ["run_key", "config_id", "metric", "repeat_index", "value"],
}


# HistoryError: a history store that cannot be used (corrupt, newer, locked, missing): the message names the file
HistoryError = UserError


def resolve_path(given: str | Path | None = None) -> Path:
    """--history-db PATH, else $BENCHBENCH_HISTORY, else results/history.duckdb."""
    return Path(given or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def _duckdb():
    try:
        import duckdb
    except ImportError:
        raise HistoryError("the history needs the duckdb package: pip install duckdb") from None
    return duckdb


@contextlib.contextmanager
def _lock(path: Path, write: bool):
    lock_path = path.with_name(path.name + ".lock")
    try:
        f = open(lock_path, "a+")
    except OSError as e:
        if write:
            raise HistoryError(f"{lock_path}: cannot write the history's lock file ({e.strerror or e})") from None
        yield  # a read-only place (a shared folder mounted read-only): read without a lock
        return
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    mode = fcntl.LOCK_EX if write else fcntl.LOCK_SH
    try:
        while True:
            try:
                fcntl.flock(f, mode | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise HistoryError(f"{path} is held by another benchbench process (its {lock_path.name}) for over "
                                       f"{LOCK_TIMEOUT_S:.0f} s; wait for it to finish") from None
                time.sleep(0.05)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def _one(con, query: str, params: list | None = None):
    """The first row of a query, its result finished (DuckDB 2 streams: an unread result blocks the connection)."""
    rows = con.execute(query, params or []).fetchall()
    return rows[0] if rows else None


def _version(con, path: Path) -> int:
    try:
        got = _one(con, "SELECT value FROM meta WHERE key = 'history_version'")
    except _duckdb().Error:
        got = None
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} if got is None else set()
    if got is None and ({"meta", *TABLES} <= names or (not names and path.stat().st_size > 3 * 4096)):
        raise HistoryError(f"{path}: damaged (truncated?): a history's tables without their contents "
                           f"({path.stat().st_size:,} bytes); restore it from a copy (or from a history export: "
                           "benchbench history import DIR), or point --history-db at another file")
    if got is None:
        raise HistoryError(f"{path}: a DuckDB file but not a benchbench history (no meta.history_version); "
                           f"point --history-db at another file")
    try:
        return int(got[0])
    except ValueError:
        raise HistoryError(f"{path}: history_version {got[0]!r} is not a number; the file is damaged") from None


def _migrate(con, path: Path, version: int):
    if version > HISTORY_VERSION:
        raise HistoryError(f"{path}: history_version {version} was written by a newer benchbench (this one reads up to "
                           f"{HISTORY_VERSION}); upgrade benchbench (pip install -U benchbench)")
    while version < HISTORY_VERSION:
        if version not in MIGRATIONS:
            raise HistoryError(f"{path}: history_version {version} cannot be migrated to {HISTORY_VERSION}; re-create "
                               "it (history export from the old benchbench, then history import)")
        con.execute("BEGIN")
        for sql in MIGRATIONS[version]:
            con.execute(sql)
        version += 1
        con.execute("UPDATE meta SET value = ? WHERE key = 'history_version'", [str(version)])
        con.execute("COMMIT")


@contextlib.contextmanager
def connect(path: str | Path, write: bool = False):
    """A DuckDB connection to the store under its lock; created (write) or refused (read) when missing."""
    duckdb, path = _duckdb(), Path(path)
    if not write and not path.is_file():
        raise HistoryError(f"{path}: no history there; add runs first: benchbench history add RUN_DIR "
                           f"--history-db {path}")
    if write:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise HistoryError(f"{path.parent}: cannot create the history's folder ({e.strerror or e})") from None
    # a writer holds Ctrl-C and SIGTERM until its transaction is committed and the file closed
    with _lock(path, write), (signals.held() if write else contextlib.nullcontext()):
        new = write and (not path.exists() or path.stat().st_size == 0)
        if new:
            path.unlink(missing_ok=True)
        try:
            con = duckdb.connect(str(path), read_only=not write)
        except duckdb.Error as e:
            raise HistoryError(f"{path}: not a readable history store: damaged, truncated or not a DuckDB file "
                               f"({str(e).splitlines()[0]}); restore it from a copy, move it aside, or point "
                               "--history-db elsewhere") from None
        try:
            if new:
                for sql in SCHEMA:
                    con.execute(sql)
                con.execute("INSERT INTO meta VALUES ('history_version', ?), ('kind', ?)", [str(HISTORY_VERSION), KIND])
            else:
                version = _version(con, path)
                if version != HISTORY_VERSION and not write:  # migrating needs a writable connection
                    con.close()
                    con = duckdb.connect(str(path))
                _migrate(con, path, version)
            yield con
        except duckdb.Error as e:
            raise HistoryError(f"{path}: {str(e).splitlines()[0]}{write_hint(str(e))}") from None
        finally:
            con.close()



def _frame(records: list[dict], table: str) -> pd.DataFrame:
    df = pd.DataFrame(records, columns=COLUMNS[table])
    for col in ("started_at", "commit_time", "added_at"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True, errors="coerce", format="ISO8601")
    return df


def add(path: str | Path, runs: list[dict]) -> dict[str, str]:
    """Add runs, each {"run": {...}, "configs": [...], "results": [...], "repeats": [...]} (columns of COLUMNS),
    in one transaction. A run already there with the same rows is left alone ('unchanged'); one whose rows
    changed since (a resumed run) is replaced ('replaced'); else 'added'. {run_key: what happened}."""
    out = {}
    with connect(path, write=True) as con:
        have = dict(con.execute("SELECT run_key, rows_sha256 FROM runs").fetchall())
        con.execute("BEGIN")
        batch = {t: [] for t in TABLES}
        for rec in runs:
            key = rec["run"]["run_key"]
            if key in out:  # the same run named twice in one call: what happened to it the first time
                continue
            if key in have and have[key] == rec["run"]["rows_sha256"]:
                out[key] = "unchanged"
                continue
            if key in have:
                for t in TABLES:
                    con.execute(f"DELETE FROM {t} WHERE run_key = ?", [key])
            out[key] = "replaced" if key in have else "added"
            have[key] = rec["run"]["rows_sha256"]
            batch["runs"].append({**rec["run"], "added_at": dt.datetime.now(dt.timezone.utc)})
            for t in ("configs", "results", "repeats"):
                batch[t] += [{**r, "run_key": key} for r in rec[t]]
        for t in TABLES:
            if batch[t]:
                df = _frame(batch[t], t)  # noqa: F841 (DuckDB reads the local DataFrame by name)
                con.execute(f"INSERT INTO {t} ({', '.join(COLUMNS[t])}) SELECT {', '.join(COLUMNS[t])} FROM df")
        con.execute("COMMIT")
    return out


def _where(filters: dict) -> tuple[str, list]:
    clauses, params = [], []
    for col, value in filters.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set)):
            if not value:
                clauses.append("FALSE")
                continue
            clauses.append(f"{col} IN ({', '.join('?' * len(value))})")
            params += list(value)
        else:
            clauses.append(f"{col} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _pandas(con, query: str, params: list | None = None) -> pd.DataFrame:
    """A query's result as a DataFrame, through Arrow (DuckDB's own .df() uses pandas calls pandas 3 deprecates),
    from a relation (con.sql): DuckDB 2 warns that Arrow output of an execute() result makes an extra copy."""
    rel = con.sql(query, params=params or None)
    arrow = getattr(rel, "to_arrow_table", None) or rel.arrow  # 1.x before 1.4: .arrow()
    return arrow().to_pandas()


def results(path: str | Path, **filters) -> pd.DataFrame:
    """results joined with their run and config: one row per (run, config, metric); filters are column = value
    (a list: IN), e.g. suite="amp", metric="tokens_per_s", config_id=[...]. Oldest commit first."""
    where, params = _where(filters)
    with connect(path) as con:
        return _pandas(con,
            "SELECT * FROM (SELECT r.*, c.label, c.status, c.repeats AS repeats_all, c.repeats_ok, c.settings, "
            "u.run_id, u.suite, u.smoke, u.started_at, u.git_commit, u.commit_time, u.commit_time_source, u.branch, "
            "u.dirty, u.machine, u.machine_label, u.host, u.run_dir FROM results r JOIN configs c USING (run_key, config_id) "
            f"JOIN runs u USING (run_key)){where} ORDER BY commit_time, started_at, run_key, config_id",
            params)


def repeat_values(path: str | Path, **filters) -> pd.DataFrame:
    """repeats joined with their run's series columns (machine, git_commit, commit_time, branch, suite)."""
    where, params = _where(filters)
    with connect(path) as con:
        return _pandas(con,
            "SELECT * FROM (SELECT p.*, u.suite, u.machine, u.git_commit, u.commit_time, u.started_at, u.branch "
            f"FROM repeats p JOIN runs u USING (run_key)){where} ORDER BY commit_time, started_at, run_key, "
            "config_id, repeat_index", params)


def runs(path: str | Path) -> pd.DataFrame:
    with connect(path) as con:
        return _pandas(con, "SELECT * FROM runs ORDER BY commit_time, started_at")


def export(path: str | Path, directory: str | Path) -> list[Path]:
    """Every table as DIR/<table>-<export id>.parquet, and DIR/export-<export id>.json naming them: many
    machines may export into one shared folder without overwriting each other."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)
    written = []
    with connect(path) as con:
        n = _one(con, "SELECT count(*) FROM runs")[0]
        for t in TABLES:
            f = directory / f"{t}-{stamp}.parquet"
            tmp = f.with_name("." + f.name + ".tmp")
            con.execute(f"COPY (SELECT {', '.join(COLUMNS[t])} FROM {t}) TO '{_quote(tmp)}' (FORMAT parquet)")
            os.replace(tmp, f)
            written.append(f)
    manifest = directory / f"export-{stamp}.json"
    tmp = manifest.with_name("." + manifest.name + ".tmp")
    tmp.write_text(json.dumps({"kind": KIND, "history_version": HISTORY_VERSION, "runs": n,
                               "tables": {t: f"{t}-{stamp}.parquet" for t in TABLES}}, indent=2) + "\n")
    os.replace(tmp, manifest)  # last: an importer sees a manifest only once its files are whole
    return [*written, manifest]


def _quote(p: Path) -> str:
    return str(p).replace("'", "''")


def read_exports(directory: str | Path) -> list[dict]:
    """The exports in DIR (export-*.json), checked: {manifest, tables: {table: parquet path}}."""
    directory = Path(directory)
    if not directory.is_dir():
        raise HistoryError(f"{directory}: no such folder (history import reads the folder history export wrote)")
    found = []
    for m in sorted(directory.glob("export-*.json")):
        try:
            data = json.loads(m.read_text())
        except (OSError, ValueError) as e:
            raise HistoryError(f"{m}: not a history export manifest ({e})") from None
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise HistoryError(f"{m}: not a benchbench history export (no \"kind\": \"{KIND}\")")
        v = data.get("history_version")
        if not isinstance(v, int) or v > HISTORY_VERSION:
            raise HistoryError(f"{m}: history_version {v} was written by a newer benchbench (this one reads up to "
                               f"{HISTORY_VERSION}); upgrade benchbench")
        named = data.get("tables")
        if not isinstance(named, dict) or not all(isinstance(named.get(t), str) and named[t] for t in TABLES):
            raise HistoryError(f"{m}: \"tables\" must map each of {', '.join(TABLES)} to a parquet file name; "
                               "write the export again with: benchbench history export DIR")
        tables = {t: directory / named[t] for t in TABLES}
        outside = [named[t] for t, p in tables.items() if p.resolve().parent != directory.resolve()]
        if outside:
            raise HistoryError(f"{m}: names files outside its folder ({', '.join(outside)}); an export names its own files")
        missing = [str(p) for p in tables.values() if not p.is_file()]
        if missing:
            raise HistoryError(f"{m}: its files are missing: {', '.join(missing)}")
        found.append({"manifest": m, "version": v, "tables": tables})
    if not found:
        raise HistoryError(f"{directory}: no export-*.json (write one with: benchbench history export {directory})")
    return found


def import_exports(path: str | Path, directory: str | Path) -> tuple[int, int]:
    """Add the runs of every export in DIR that the store does not hold yet: (runs added, runs already there)."""
    exports = read_exports(directory)  # all checked before anything is written
    added = present = replaced = 0
    with connect(path, write=True) as con:
        con.execute("BEGIN")
        for ex in exports:
            if ex["version"] != HISTORY_VERSION:
                raise HistoryError(f"{ex['manifest']}: history_version {ex['version']}; import it with the benchbench "
                                   f"that wrote it into a store, then export again")
            src = {t: f"read_parquet('{_quote(p)}')" for t, p in ex["tables"].items()}
            _check_export(con, ex, src)
            # a run the store holds with other rows, added later in the export (it was resumed since): replaced
            stale = (f"(SELECT s.run_key FROM {src['runs']} s JOIN runs r USING (run_key) WHERE s.rows_sha256 IS "
                     "DISTINCT FROM r.rows_sha256 AND s.added_at > r.added_at)")
            old = [r[0] for r in con.execute(stale).fetchall()]
            for t in TABLES:
                for key in old:
                    con.execute(f"DELETE FROM {t} WHERE run_key = ?", [key])
            new = (f"(SELECT run_key FROM {src['runs']} WHERE run_key NOT IN (SELECT run_key FROM runs))")
            total = _one(con, f"SELECT count(*) FROM {src['runs']}")[0]
            n = _one(con, f"SELECT count(*) FROM {new}")[0]
            for t in ("configs", "results", "repeats", "runs"):  # runs last: `new` reads it
                cols = ", ".join(COLUMNS[t])
                con.execute(f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {src[t]} WHERE run_key IN {new}")
            added, present, replaced = added + n - len(old), present + total - n, replaced + len(old)
        con.execute("COMMIT")
    return added, present, replaced


# each table's identity: no null in it, no two rows with the same (a crafted or damaged export is refused)
KEYS = {"runs": ("run_key",), "configs": ("run_key", "config_id"), "results": ("run_key", "config_id", "metric"),
        "repeats": ("run_key", "config_id", "metric", "repeat_index")}


def _check_export(con, ex: dict, src: dict):
    for t, cols in KEYS.items():
        f = ex["tables"][t]
        try:
            have = {r[0] for r in con.execute(f"SELECT name FROM parquet_schema('{_quote(f)}')").fetchall()}
        except _duckdb().Error as e:
            raise HistoryError(f"{f}: not a readable parquet file ({str(e).splitlines()[0]}); export again") from None
        missing = [c for c in COLUMNS[t] if c not in have]
        if missing:
            raise HistoryError(f"{f}: lacks the column(s) {', '.join(missing)} of the history's {t} table; export again")
        keys = ", ".join(cols)
        nulls = _one(con, f"SELECT count(*) FROM {src[t]} WHERE " + " OR ".join(f"{c} IS NULL" for c in cols))[0]
        if nulls:
            raise HistoryError(f"{f}: {nulls} row(s) with an empty {keys}; the export is damaged: export again")
        dup = _one(con, f"SELECT {keys}, count(*) FROM {src[t]} GROUP BY ALL HAVING count(*) > 1 LIMIT 1")
        if dup:
            raise HistoryError(f"{f}: {dup[-1]} rows for one ({keys}) = {dup[:-1]}; the export is damaged: export again")
        if t != "runs":
            orphans = _one(con, f"SELECT count(*) FROM {src[t]} WHERE run_key NOT IN (SELECT run_key FROM {src['runs']})")[0]
            if orphans:
                raise HistoryError(f"{f}: {orphans} row(s) of runs its runs file lacks; the export is damaged: export again")
