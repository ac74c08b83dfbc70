"""Runs into the history: each run's record (series.run_record) first, then one transaction of the
store (store/history.py). `benchbench history add`, `run --history` and bisect's probes add runs here."""

from __future__ import annotations

from pathlib import Path

from benchbench.analysis import series
from benchbench.basics.errors import UserError
from benchbench.store import history, results


def add_runs(path, run_dirs, writing: bool = False) -> dict[str, str]:
    """Every run's records first (a bad one refuses them all: nothing is written), then one transaction.
    {run_dir: 'added'|'unchanged'|'replaced'}. writing: the caller is the run that holds the lock."""
    recs = []
    for d in run_dirs:
        if not Path(d).is_dir():
            raise UserError(f"{d}: no such run directory")
        if not writing and being_written(d):
            raise UserError(f"{d}: the run is still being written (a benchbench run holds its .lock); add it once it "
                             "ends, or give run --history to add it at its end")
        try:
            recs.append(series.run_record(d))
        except (results.StoreError, series.SeriesError, ValueError) as e:
            raise UserError(f"{e}" if str(d) in str(e) else f"{d}: {e}") from None
    done = history.add(path, recs)
    return {str(d): done[r["run"]["run_key"]] + partial(d) for d, r in zip(run_dirs, recs)}


def being_written(run_dir) -> bool:
    """A `benchbench run` holds the run directory's .lock (exclusive) while it writes rows."""
    import fcntl

    try:
        f = open(Path(run_dir) / ".lock")
    except OSError:
        return False
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def partial(run_dir) -> str:
    """' (partial: ...)' for a run that did not finish or holds fewer rows than its sweep owes."""
    try:
        run = results.read_json(Path(run_dir) / "run.json")
    except (OSError, ValueError):
        return ""
    note = results.completeness(run_dir)
    if run.get("finished_at") and not note:
        return ""
    what = note or f"{len(results.read_rows(run_dir))} rows; the run did not finish"
    return (f" (partial: {what}; what it holds is added: continue it with benchbench run --resume {run_dir}, "
            "then add it again)")
