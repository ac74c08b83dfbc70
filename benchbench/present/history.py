"""The history's tables: a trend per config over commits, and the change points, as a terminal table,
markdown or CSV."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

from benchbench.present.markdown import fmt, md_cell

TREND_COLUMNS = ["config_id", "label", "machine", "git_commit", "commit_time", "branch", "runs", "metric", "value",
                 "ci_low", "ci_high", "repeats", "change_point"]
CHANGE_COLUMNS = ["commit_after", "commit_before", "config_id", "label", "metric", "before", "after", "change",
                  "ratio_ci_low", "ratio_ci_high", "floor", "verdict", "machine"]


def pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x - 1:+.1%}" if x > 0.0 else "-"


def step_text(r) -> str:
    """'-4.9% [-5.2%, -4.6%]': the step after/before with its interval."""
    return f"{r['change']:+.1%} [{pct(r['ratio_ci_low'])}, {pct(r['ratio_ci_high'])}]"


def trend_rows(t: pd.DataFrame) -> list[list[str]]:
    rows = []
    for _, r in t.iterrows():
        metric = r["metric"]
        rows.append([r["config_id"], str(r["label"]), str(r["git_commit"])[:12] or "-",
                     str(r["commit_time"])[:19], r["branch"] or "-", str(r["runs"]),
                     f"{fmt(r['value'], metric)} [{fmt(r['ci_low'], metric)}, {fmt(r['ci_high'], metric)}]",
                     str(r["repeats"]), r["change_point"] or ""])
    return rows


TREND_HEAD = ["config", "label", "commit", "commit time (UTC)", "branch", "runs", "value [95% CI]", "repeats",
              "change point"]
CHANGE_HEAD = ["after commit", "before commit", "config", "label", "metric", "before", "after", "step [95% CI]",
               "floor", "verdict"]


def change_rows(t: pd.DataFrame) -> list[list[str]]:
    return [[str(r["commit_after"])[:12], str(r["commit_before"])[:12], r["config_id"], str(r["label"]), r["metric"],
             fmt(r["before"], r["metric"]), fmt(r["after"], r["metric"]), step_text(r), f"{r['floor']:.1%}",
             r["verdict"]] for _, r in t.iterrows()]


def markdown(head: list[str], rows: list[list[str]]) -> str:
    esc = [[md_cell(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(map(md_cell, head)) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in esc]
    return "\n".join(lines) + "\n"


def table(head: list[str], rows: list[list[str]], title: str = "") -> Table:
    tbl = Table(title=title or None, title_justify="left")
    for h in head:
        tbl.add_column(h, overflow="fold")
    for r in rows:
        tbl.add_row(*r)
    return tbl


def render(kind: str, t: pd.DataFrame, fmt_name: str, console, title: str = ""):
    """Print a trend (kind 'trend') or change-point (kind 'changes') table in table|csv|markdown."""
    if fmt_name == "csv":
        cols = TREND_COLUMNS if kind == "trend" else CHANGE_COLUMNS
        console.file.write(t.reindex(columns=cols).to_csv(index=False))
        return
    head, rows = (TREND_HEAD, trend_rows(t)) if kind == "trend" else (CHANGE_HEAD, change_rows(t))
    if fmt_name == "markdown":
        console.file.write(markdown(head, rows))
    else:
        console.print(table(head, rows, title))


def shape_line(r) -> str:
    """A drift or two modes in words: 'drift: gpt tiny (c1): -6.0% over 30 commits (-0.20% [-0.25%, -0.15%] a
    commit), a regression'; 'two modes: gpt tiny (c1): values in two modes 3.0% apart (14 and 16 commits); add
    repeats, no change point is judged'."""
    who = f"{r['label']} ({r['config_id']}) on {r['machine_label']}"
    if r["shape"] == "drift":
        way = "a regression" if r["worse"] else "an improvement"
        return (f"drift: {who}: {r['change']:+.1%} over {r['commits']} commits ({r['per_commit']:+.2%} "
                f"[{r['per_commit_ci_low']:+.2%}, {r['per_commit_ci_high']:+.2%}] a commit), {way}")
    return (f"two modes: {who}: values in two modes {r['change']:.1%} apart over {r['commits']} commits; add repeats, "
            f"no change point is judged")
