"""benchbench report: one self-contained HTML file (or markdown tables) from stored runs.

    build(run_dirs, baseline=...)  -> Report   (data.py reads, charts.py plots, verdicts from compare/gate)
    html.render(report, out_dir)   -> str      (Jinja2 template, plotly.js inlined: opens offline)
    present.markdown.report(report)        -> str      (tables only)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from benchbench.analysis import compare, gate
from benchbench.present.report import charts, explain_panel
from benchbench.present.report.data import Run, header, load_runs, swept
from benchbench.store import baseline as baseline_mod


@dataclass
class BaselineVerdict:
    run: str                       # the run's name
    result: gate.GateResult | None
    error: str | None = None       # why the run could not be gated (another suite, no common config)


@dataclass
class Report:
    runs: list[Run]
    title: str
    headers: list[dict]
    swept: dict[str, list[str]]
    comparisons: list[tuple[str, pd.DataFrame]] = field(default_factory=list)   # (run name, compare table vs runs[0])
    verdicts: dict[str, dict[str, str]] = field(default_factory=dict)           # run name -> config_id -> verdict
    baseline_path: str | None = None
    baseline: list[BaselineVerdict] = field(default_factory=list)
    figures: list[tuple[str, str, dict]] = field(default_factory=list)          # (section, id, plotly figure)
    highlights: list[tuple[str, str, str]] = field(default_factory=list)        # (what, value, config)
    generated_at: str = ""
    history_path: str | None = None                                             # report --history: the store


MAX_TRENDS = 24  # configs with a trend chart; a report of a large sweep stays readable


def trends(rep: Report, path) -> list[tuple[str, str, dict]]:
    """Per config of the first run: its history on the run's machine (value +- interval over commits, change
    points marked), as figures of the report's "trend" section."""
    from benchbench.analysis import changepoints, series
    from benchbench.store import history

    run = rep.runs[0]
    metric = run.configs.attrs.get("throughput", "tokens_per_s")
    machine, _ = series.machine_key(series.fingerprint(run.env))
    ids = list(run.configs["config_id"])[:MAX_TRENDS] if len(run.configs) else []
    frame = history.results(path, metric=metric, machine=machine, config_id=ids)
    reps = history.repeat_values(path, metric=metric, machine=machine, config_id=ids)
    out = []
    for _, cid, _, label, machine_label, pts in series.series(frame, reps):
        marks = {c.index: f"{c.change:+.1%}" for c in changepoints.analyze(list(pts["repeats"])).changes}
        out.append(("trend", f"fig-trend-{cid}", charts.trend(pts, marks, f"{label} ({cid}) on {machine_label}", metric)))
    return out


def build(run_dirs, baseline: str | Path | None = None, title: str | None = None, level: float = 0.05,
          history=None) -> Report:
    runs = load_runs(run_dirs)
    suites = list(dict.fromkeys(h["suite"] for h in map(header, runs)))
    rep = Report(runs=runs, title=title or f"benchbench report: {', '.join(suites)}", headers=[header(r) for r in runs],
                 swept=swept(runs), generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    first = runs[0]
    thr = first.configs.attrs.get("throughput", "tokens_per_s")
    for other in runs[1:]:
        try:
            t = compare.compare(first.rows, other.rows, thr, level=level)
        except compare.CompareError:
            continue  # nothing comparable (e.g. no ok row): the tables still show both runs
        rep.comparisons.append((other.name, t))
        rep.verdicts[other.name] = dict(zip(t["config_id"], t["verdict"]))
    if baseline is not None:
        rep.baseline_path = str(baseline)
        base = baseline_mod.load(baseline)
        for run in runs:
            try:
                res = gate.check(base, run.rows, run.run, run.env, level=level, allow_env_change=True)
                rep.baseline.append(BaselineVerdict(run.name, res))
            except (gate.GateError, compare.CompareError) as e:
                rep.baseline.append(BaselineVerdict(run.name, None, str(e)))
    rep.highlights = highlights(runs)
    rep.figures = figures(rep)
    rep.figures += explain_panel.figures(rep)  # the roofline; why each verdict (both sides profiled)
    if history is not None:
        rep.history_path = str(history)
        rep.figures += trends(rep, history)
    return rep


def figures(rep: Report) -> list[tuple[str, str, dict]]:
    out = []
    fig = charts.throughput_vs_memory(rep.runs)
    if fig:
        out.append(("overview", "fig-pareto", fig))
    fig = charts.cost_vs_memory(rep.runs)
    if fig:
        out.append(("overview", "fig-cost", fig))
    fig = charts.runs_side_by_side(rep.runs, rep.verdicts)
    if fig:
        out.append(("runs", "fig-runs", fig))
    for k, run in enumerate(rep.runs):
        per_run = [("axes", f"fig-axes-{k}-{j}", fig) for j, fig in enumerate(charts.per_axis(run))]
        fig = charts.profile(run)
        if fig:
            per_run.append(("profile", f"fig-profile-{k}", fig))
        for _, _, fig in per_run if len(rep.runs) > 1 else ():  # which run a chart is of
            fig["layout"]["title"]["text"] = f"{charts.esc(run.name)}: {fig['layout']['title']['text']}"
        out += per_run
    return out


def highlights(runs: list[Run]) -> list[tuple[str, str, str]]:
    """The few numbers a reader looks for first, from the first run: fastest, leanest, most
    energy-efficient config."""
    t = runs[0].configs
    ok = t[t["status"] == "ok"]
    thr = t.attrs.get("throughput", "tokens_per_s")
    out = []
    if ok[thr].notna().any():
        r = ok.loc[ok[thr].idxmax()]
        speedup = f" ({r['speedup']:.2f}x)" if finite(r["speedup"]) else ""  # none in a smoke run
        out.append(("fastest", f"{r[thr]:,.0f} {thr.replace('_per_s', '/s')}{speedup}", r["label"]))
    if ok["peak_memory_bytes"].notna().any():
        r = ok.loc[ok["peak_memory_bytes"].idxmin()]
        out.append(("least memory", f"{r['peak_memory_bytes'] / 2**30:.2f} GiB", r["label"]))
    if "j_per_token" in ok and ok["j_per_token"].notna().any():
        r = ok.loc[ok["j_per_token"].idxmin()]
        out.append(("least energy", f"{r['j_per_token'] * 1e3:.3g} mJ/token", r["label"]))
    if "mfu" in ok and ok["mfu"].notna().any():
        r = ok.loc[ok["mfu"].idxmax()]
        out.append(("highest MFU", f"{r['mfu']:.1%}", r["label"]))
    failed = t[t["status"] != "ok"]
    if len(failed):
        counts = failed["status"].value_counts()
        out.append(("not ok", ", ".join(f"{n} {s}" for s, n in counts.items()), ""))
    return out


def finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


__all__ = ["Report", "build"]
