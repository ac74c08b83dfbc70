"""`benchbench history add|show|regressions|export|import`: the continuous-benchmarking history
(store/history.py; docs/history.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.markup import escape

from benchbench.analysis import changepoints, series
from benchbench.analysis.records import add_runs
from benchbench.commands.common import UsageError, console, ends_on_signals
from benchbench.present import history as view
from benchbench.store import history
from benchbench.sweep import gitrepo


@ends_on_signals("history", "nothing is half-written: the history holds each add or import whole or not at all, "
                           "and an export's files are named by its manifest only once whole; run the command again")
def main(args) -> int:
    return {"add": _add, "show": _show, "regressions": _regressions, "export": _export,
            "import": _import}[args.history_command](args)


def _add(args) -> int:
    path = history.resolve_path(args.history_db)
    done = add_runs(path, args.run_dirs)
    err = console(stderr=True)
    for d, what in done.items():
        err.print(escape(f"{what}: {d}"), highlight=False, soft_wrap=True)
    err.print(escape(f"history: {path}"), highlight=False, soft_wrap=True)
    return 0


def load(args, metric_required: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The history's results and repeats of one metric, filtered by --suite/--config/--where/--branch."""
    path = history.resolve_path(args.history_db)
    frame = history.results(path, suite=args.suite)
    if frame.empty:
        held = history.runs(path)
        held = held[held["suite"] == args.suite] if args.suite else held
        if len(held):  # runs whose every config failed or was skipped have no values
            raise UsageError(f"{path}: its {len(held)} run(s)" + (f" of suite {args.suite!r}" if args.suite else "") +
                             " hold no measured value (every config failed or was skipped: see the runs' tables); "
                             "add runs with ok configs: benchbench history add RUN_DIR")
        raise UsageError(f"{path}: no runs" + (f" of suite {args.suite!r}" if args.suite else "") +
                         "; add some: benchbench history add RUN_DIR")
    metric = args.metric or series.default_metric(frame)
    series.check_metric(frame, metric)
    frame = frame[frame["metric"] == metric]
    if getattr(args, "branch", None):
        frame = frame[frame["branch"] == args.branch]
    if getattr(args, "config", None):
        unknown = sorted(set(args.config) - set(frame["config_id"]))
        if unknown:
            raise UsageError(f"config {', '.join(unknown)} is not in the history; it holds: "
                             f"{', '.join(sorted(set(frame['config_id']))[:20])}")
        frame = frame[frame["config_id"].isin(args.config)]
    if getattr(args, "where", None):
        frame = series.where(frame, args.where)
    reps = history.repeat_values(path, metric=metric)
    return frame, reps[reps["run_key"].isin(frame["run_key"])], metric


def trend(frame: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Per series: each commit's value with its interval, and the step where a change point begins."""
    out = []
    for _, cid, metric, label, machine_label, pts in series.series(frame, reps):
        marks = {c.index: view.step_text({"change": c.change, "ratio_ci_low": c.ratio_ci_low,
                                          "ratio_ci_high": c.ratio_ci_high})
                 for c in changepoints.analyze(list(pts["repeats"])).changes}
        out.append(pts.assign(config_id=cid, label=label, machine=machine_label, metric=metric,
                              repeats=pts["repeats"].map(len),
                              change_point=[marks.get(i, "") for i in range(len(pts))]).reindex(columns=view.TREND_COLUMNS))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=view.TREND_COLUMNS)


def _show(args) -> int:
    frame, reps, metric = load(args)
    t = trend(frame, reps)
    if t.empty:
        raise UsageError("no config matches (--config/--where/--branch), or none has an ok repeat")
    out = console()
    for machine, g in t.groupby("machine", sort=False):
        view.render("trend", g, args.format, out, title=escape(f"{metric} on {machine}"))
    err = console(stderr=True)
    for _, r in series.shapes(frame, reps, metric).iterrows():   # what no single commit's mark says
        err.print(escape(view.shape_line(r)), highlight=False, soft_wrap=True)
    return 0


def _regressions(args) -> int:
    frame, reps, metric = load(args)
    t = series.changes(frame, reps, metric)
    if args.since:
        repo = Path(args.repo or ".")
        when = series.commit_time(frame, args.since, lambda rev: gitrepo.commit_time(repo, rev) if repo.is_dir() else None)
        t = t[t["commit_time"] > when]
    out, err = console(), console(stderr=True)
    if len(t):
        view.render("changes", t, args.format, out, title=escape(f"change points of {metric}, newest first"))
        for line in why_lines(frame, t) if args.format != "csv" else ():
            out.print(escape(line), highlight=False, soft_wrap=True)
    worse = int(t["worse"].sum()) if len(t) else 0
    err.print(escape(f"history: {len(t)} change points of {metric} ({worse} regressions, {len(t) - worse} improvements) "
                     f"in {frame['config_id'].nunique()} configs"), highlight=False, soft_wrap=True)
    shapes = series.shapes(frame, reps, metric)
    if args.since:   # a drift or two modes still seen after REV
        shapes = shapes[shapes["commit_time"] > when]
    for _, r in shapes.iterrows():
        err.print(escape(view.shape_line(r)), highlight=False, soft_wrap=True)
    drifts = int(shapes["worse"].sum()) if len(shapes) else 0
    return 1 if worse or drifts else 0


def why_lines(frame: pd.DataFrame, changes: pd.DataFrame) -> list[str]:
    """Per change point whose runs either side are still on disk with profiles: benchbench explain's line
    (the last run at the commit before against the first at the commit after)."""
    from benchbench.analysis import explain

    out = []
    for _, c in changes.iterrows():
        runs = frame[(frame["config_id"] == c["config_id"]) & (frame["machine"] == c["machine"])]
        before = runs.loc[runs["git_commit"] == c["commit_before"], "run_dir"].dropna()
        after = runs.loc[runs["git_commit"] == c["commit_after"], "run_dir"].dropna()
        line = explain.lead_between(before.iloc[-1], after.iloc[0], c["config_id"]) if len(before) and len(after) else None
        if line:
            out.append(f"why {c['label']} ({str(c['commit_before'])[:12]} -> {str(c['commit_after'])[:12]}): {line}")
    return out


def _export(args) -> int:
    written = history.export(history.resolve_path(args.history_db), args.directory)
    console(stderr=True).print(escape(f"exported: {', '.join(str(p) for p in written)}"), highlight=False, soft_wrap=True)
    return 0


def _import(args) -> int:
    path = history.resolve_path(args.history_db)
    added, present, replaced = history.import_exports(path, args.directory)
    again = f"; {replaced} replaced by a later export of the same run" if replaced else ""
    console(stderr=True).print(escape(f"imported {added} runs into {path} ({present} were there already{again})"),
                               highlight=False, soft_wrap=True)
    return 0

