"""How many repeats each config wants now: its `repeats`, or for `repeats: auto` the next step of the
sequential test (basics/sequential.py) against its reference:

- `run --against RUN`: the same config's repeats in that finished run;
- else the suite's baseline config in this run (run.json `baseline_config_id`); the baseline config,
  when it is `repeats: auto` itself, keeps pace with the configs tested against it;
- no reference (a one-config suite, the baseline left out by --config, a config RUN lacks): the
  precision rule, until the repeats pin the value within target_halfwidth (stopping.repeats_sure).

A config stops at 3 repeats at the least and max_repeats at the most (a max_repeats below 3 counts as 3), and as soon as one of its
repeats is not ok (more of them would not judge it). The value judged is each repeat's median step
time (`step_time_s_median`), the one every model has.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchbench.basics import sequential, stopping
from benchbench.store import results

VALUE = "step_time_s_median"


def _ok_values(rows: pd.DataFrame, config_id: str) -> tuple[int, list[float]]:
    """(repeats recorded, the ok repeats' values)."""
    if rows.empty or "config_id" not in rows:
        return 0, []
    g = rows[rows["config_id"] == config_id]
    ok = g[g["status"] == "ok"]
    return len(g), (ok[VALUE].dropna().tolist() if VALUE in ok else [])


def _reference_rows(run_dir: Path) -> tuple[pd.DataFrame | None, str | None]:
    """(the rows of `run --against RUN`, or None; the baseline config id), from run.json."""
    p = Path(run_dir) / "run.json"
    run = results.read_json(p) if p.exists() else {}
    against = run.get("repeats_against")
    return (results.load(against) if against else None), run.get("baseline_config_id")


def wanted(configs, run_dir: Path, done: set) -> dict[str, int]:
    """{config_id: repeats wanted now}."""
    want = {c.config_id: c.repeats for c in configs if c.repeats != "auto"}
    auto = [c for c in configs if c.repeats == "auto"]
    if not auto:
        return want
    counts = {}
    for cid, _ in done:
        counts[cid] = counts.get(cid, 0) + 1
    if all(counts.get(c.config_id, 0) < sequential.MIN_REPEATS for c in auto):
        return {**want, **{c.config_id: sequential.MIN_REPEATS for c in auto}}
    rows = results.load(run_dir) if done else pd.DataFrame()
    against, base_id = _reference_rows(run_dir)
    ids = {c.config_id for c in configs}
    pacer = None
    for c in auto:
        n, values = _ok_values(rows, c.config_id)
        if against is not None:
            ref = _ok_values(against, c.config_id)[1]
        elif base_id in ids and base_id != c.config_id:
            ref = _ok_values(rows, base_id)[1]
        else:
            ref = None
            if base_id == c.config_id and against is None and len(ids) > 1:
                pacer = c          # the baseline: decided after the others
                continue
        want[c.config_id] = _next(c, n, values, ref)
    if pacer is not None:
        others = [want[c.config_id] for c in configs if c.config_id != pacer.config_id]
        n = counts.get(pacer.config_id, 0)
        want[pacer.config_id] = min(max(pacer.max_repeats, sequential.MIN_REPEATS), max([sequential.MIN_REPEATS, n, *others]))
    return want


def _next(cfg, n: int, values: list[float], ref: list[float] | None) -> int:
    """n to stop, n + 1 to go on (3 at the least)."""
    if n < sequential.MIN_REPEATS:
        return sequential.MIN_REPEATS
    if n >= max(cfg.max_repeats, sequential.MIN_REPEATS) or len(values) < n:
        return n
    if ref is None or len(ref) < sequential.MIN_REPEATS:
        return n if stopping.repeats_sure(values, cfg.target_halfwidth) else n + 1
    return n if sequential.decide(ref, values, max(cfg.max_repeats, sequential.MIN_REPEATS)).stop else n + 1
