"""`benchbench explain RUN_A RUN_B [--config ID] [--format text|markdown|json]`: why each config's
step time changed, from the runs' profiled rows (and their stored traces when present)."""

from __future__ import annotations

import pandas as pd
from rich.markup import escape

from benchbench.analysis import bound, compare, explain
from benchbench.commands.common import UsageError, console
from benchbench.present import explain as present
from benchbench.store import results
from benchbench.worker.peaks import peak_gb_per_s


def _verdicts(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """config_id -> the step-time verdict of `compare` ("" where it cannot be given)."""
    try:
        t = compare.compare(a, b, compare.STEP_TIME if "step_times_s" in a and "step_times_s" in b else "step_time_s_median")
    except compare.CompareError:
        return {}
    return dict(zip(t["config_id"], t["verdict"]))


def main(args) -> int:
    frames = []
    for d in (args.run_a, args.run_b):
        df = results.load(d)
        if df.empty:
            raise UsageError(f"{d}: the run has no rows")
        frames.append(df)
    a, b = frames
    for d, df in ((args.run_a, a), (args.run_b, b)):
        if not explain.profiled(df):
            raise UsageError(f"{d}: no ok row has a profile (profile_* columns); rerun the configs with "
                             "`benchbench run SUITE --profile` (or `profile: true` in the suite)")
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
