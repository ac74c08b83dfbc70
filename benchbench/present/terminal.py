"""The summary table in a terminal (rich), from analysis.summary.summary()."""

from __future__ import annotations

import pandas as pd

from benchbench.basics.units import human_bytes
from benchbench.spec import catalogue


def optional() -> dict[str, tuple[str, str]]:
    """Shown when any config has them: {row column: (header, format)}, the catalogue's table metrics, then what
    bounds the config (analysis/bound.py: compute, memory bandwidth, host/launch, communication)."""
    return {**{m.name: (m.label or m.name, m.format) for m in catalogue.shown_in("table")}, "bound": ("bound", "{}")}


# A config whose repeats' throughput varies more than this (std/mean) is marked noisy: identical GPU
# repeats agree within 0.3% (results/examples/verdicts-h200), so 5% is a machine that is not quiet.
NOISY_CV = 0.05
STYLE = {"ok": "green", "oom": "magenta", "skipped": "dim", "error": "red", "killed": "red", "timeout": "yellow"}


def _num(x, fmt="{:,.0f}") -> str:
    return "-" if pd.isna(x) else fmt.format(x)


def render(table: pd.DataFrame, title: str = ""):
    """A rich Table of summary()."""
    from rich.markup import escape
    from rich.table import Table

    if table.attrs.get("smoke"):  # tiny scale: the numbers check that configs run, they measure nothing
        title = f"{title} [yellow]SMOKE: tiny scale, no speedups; not a measurement of these configs[/]"
    t = Table(title=title, title_justify="left")
    axes = table.attrs.get("axes", [])
    thr = table.attrs.get("throughput", "tokens_per_s")
    for a in axes:
        t.add_column(a)
    kind = table["peak_memory_kind"].iloc[0] if len(table) else ""
    shown = optional()
    extra = [c for c in shown if c in table and table[c].notna().any()]
    for col in (thr, "± run-to-run", "speedup", catalogue.label("step_time_s_median"), f"peak memory ({kind})",
                *(shown[c][0] for c in extra), "status"):
        t.add_column(col, justify="right" if col != "status" else "left")
    for _, r in table.iterrows():
        base = " (base)" if r["config_id"] == table.attrs.get("baseline_id") else ""
        style = STYLE.get(r["status"])
        status = f"[{style}]{r['status']}[/]" if style else escape(str(r["status"]))
        if r["status"] != "ok" and r["reason"]:
            status += f" [dim]{escape(str(r['reason'])[:70])}[/]"  # worker messages quote shapes: [2, 3]
        elif r.get("numerics") in ("diverged", "error"):
            status += f" [red]{escape(str(r['reason'])[:80])}[/]"  # "numerics diverged: why"
        cv = r.get("run_to_run_cv")
        if cv == cv and cv is not None and cv > NOISY_CV and r["status"] == "ok":
            status += f" [yellow]noisy: repeats differ by {cv:.0%}[/]"
        t.add_row(*[escape(str(r[a])) for a in axes], _num(r[thr]), _num(cv, "{:.1%}"), _num(r["speedup"], "{:.2f}x") + base,
                  _num(r["step_time_s_median"] * 1e3, "{:.2f}"), human_bytes(r["peak_memory_bytes"]),
                  *(_num(r[c], shown[c][1]) for c in extra), status)
    return t
