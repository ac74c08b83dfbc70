"""`benchbench explain RUN_A RUN_B [--config ID] [--format text|markdown|json] [--rerun [--repo PATH]]`: why
each config's step time changed, from the runs' profiled rows (and their stored traces when present); with
--rerun, from new profiled runs of the changed configs on both sides (sweep/rerun.py)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pandas as pd
from rich.markup import escape

from benchbench.analysis import bound, compare, explain
from benchbench.basics.device import peak_gb_per_s
from benchbench.commands.common import UsageError, console
from benchbench.present import explain as present
from benchbench.store import results
from benchbench.sweep import rerun


def _verdicts(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """config_id -> the step-time verdict of `compare` ("" where it cannot be given)."""
    try:
        t = compare.compare(a, b, compare.STEP_TIME if "step_times_s" in a and "step_times_s" in b else "step_time_s_median")
    except compare.CompareError:
        return {}
    return dict(zip(t["config_id"], t["verdict"]))


def _rerun(args, a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, Path, Path]:
    """--rerun: the configs compare calls faster or slower, without a profile on a side, profiled again on both
    sides (sweep/rerun.py) into a new folder beside RUN_B; (A's rows, B's rows, their run directories)."""
    say = lambda m: console(stderr=True).print(escape(m), highlight=False, soft_wrap=True)  # noqa: E731
    oa, ob = rerun.origin(args.run_a), rerun.origin(args.run_b)
    rerun.check(oa, ob)
    rerun.revisions(oa, ob, args.repo or ".")  # a commit the repository lacks: said before anything runs
    verdicts = _verdicts(a, b)
    changed = [c for c, v in verdicts.items() if v in ("faster", "slower") and (args.config is None or c == args.config)]
    if not changed:
        raise UsageError(f"no config of {args.run_a} and {args.run_b}{' (--config ' + args.config + ')' if args.config else ''} "
                         "changed (compare gives no faster or slower step-time verdict): nothing to rerun")
    ids = [c for c in changed if not (explain.profiled(a[a["config_id"] == c]) and explain.profiled(b[b["config_id"] == c]))]
    if not ids:
        say(f"--rerun: the changed configs ({', '.join(changed)}) carry profiles already; explained from the runs")
        return a[a["config_id"].isin(changed)], b[b["config_id"].isin(changed)], Path(args.run_a), Path(args.run_b)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    out = Path(args.run_b).resolve().parent / f"explain-rerun-{stamp}"
    say(f"--rerun: {len(ids)} changed config(s) without a profile ({', '.join(ids)}), profiled again on both sides "
        f"-> {out}/a, {out}/b")
    da, db = rerun.rerun(oa, ob, ids, out, args.repo or ".", log=say)
    ra, rb = results.load(da), results.load(db)
    if ra.empty or rb.empty:
        raise UsageError(f"{da if ra.empty else db}: the rerun wrote no rows (its log: {out})")
    say(f"explained from the reruns: {da} {db}")
    return ra, rb, da, db


def main(args) -> int:
    frames = []
    for d in (args.run_a, args.run_b):
        df = results.load(d)
        if df.empty:
            raise UsageError(f"{d}: the run has no rows")
        frames.append(df)
    a, b = frames
    if getattr(args, "rerun", False):
        a, b, args.run_a, args.run_b = _rerun(args, a, b)
    for d, df in ((args.run_a, a), (args.run_b, b)):
        if not explain.profiled(df):
            raise UsageError(f"{d}: no ok row has a profile (profile_* columns); rerun the configs with "
                             "`benchbench run SUITE --profile` (or `profile: true` in the suite), or add --rerun")
    names = compare.labels(pd.concat([a, b], ignore_index=True))
    exps, skipped = explain.explain_runs(a, b, args.run_a, args.run_b, args.config, names)
    bounds = {}
    for e in exps:
        bounds[e.config_id] = {"a": bound.config_bound(a[a["config_id"] == e.config_id], peak_gb_per_s),
                               "b": bound.config_bound(b[b["config_id"] == e.config_id], peak_gb_per_s)}
    verdicts = _verdicts(a, b)
    for why in skipped:  # configs in both runs that cannot be explained: said, never dropped silently
        console(stderr=True).print(escape(f"not explained: {why}"), highlight=False, soft_wrap=True)
    if args.format == "json":
        print(present.to_json(exps, bounds))
        return 0
    out = console()
    if args.format == "markdown":
        md = [f"# Why step time changed: `{args.run_b}` against `{args.run_a}`", ""]
        for e in exps:
            md += [present.markdown(e).rstrip("\n"),
                   f"- verdict (compare, step time): {verdicts.get(e.config_id) or 'none'}",
                   *(f"- bound {present.bound_line(s.upper(), bounds[e.config_id][s])}" for s in ("a", "b")), ""]
        print("\n".join(md))
        return 0
    for e in exps:
        out.print(escape(present.text(e)), highlight=False, soft_wrap=True)
        out.print(escape(f"  verdict (compare, step time): {verdicts.get(e.config_id) or 'none'}"), highlight=False)
        for s in ("a", "b"):
            out.print(escape("  bound " + present.bound_line(s.upper(), bounds[e.config_id][s])), highlight=False,
                      soft_wrap=True)
        out.print()
    return 0
