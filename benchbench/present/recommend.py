"""A recommendation (analysis/recommend.py) for people: the rich table, markdown, and the lines that
say why the pick wins and what was ruled out."""

from __future__ import annotations

import math

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from benchbench.analysis import cost
from benchbench.analysis.recommend import Recommendation
from benchbench.basics.units import GIB
from benchbench.present.markdown import md_cell


def fmt(v, metric: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if metric.endswith("_bytes"):
        return f"{v / GIB:.2f} GiB"
    if metric.startswith(("usd_", "energy_usd_")):
        return f"${v:.4g}"
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.4g}"


def lines(r: Recommendation) -> tuple[list[str], list[list[str]], list[str]]:
    """(header, body, notes): the ranked table and the explanation, as text."""
    costs = [c for c in cost.COST_COLUMNS if c in r.ranked and c != r.objective]
    head = ["rank", "config", r.objective, "95% CI", "n", f"peak memory ({r.memory_column})", "Pareto",
            "vs the rank above", *costs]
    body = []
    for x in r.ranked.itertuples():
        body.append([f"{x.rank}{'=' if x.tie else ''}" if x.rank else "-", x.label + (" *" if x.config_id == r.pick else ""),
                     fmt(x.value, r.objective), f"{fmt(x.ci_low, r.objective)} .. {fmt(x.ci_high, r.objective)}",
                     str(x.n), fmt(x.peak_memory_bytes, "peak_bytes"), "yes" if x.on_front else "", x.versus_above,
                     *(fmt(getattr(x, c), c) for c in costs)])
    why = [r.no_pick] if r.pick is None and r.no_pick else []
    for e in r.explanation:
        ratio = "" if e["ratio"] is None else f" (x{e['ratio']:.3f})"
        if e["setting"] == "all":
            why.append(f"pick vs baseline: {e['verdict']}{ratio}")
        else:
            alone = "" if e["config_id"] is None else f" [{e['config_id']}]"
            why.append(f"{e['setting']}: {e['baseline_value']} -> {e['pick_value']}: {e['verdict']}{ratio}{alone}")
    if r.pick is None:
        pass
    elif r.baseline_id is None:
        why.append("no baseline config in the rows: nothing to explain against")
    elif r.pick == r.baseline_id:
        why.append("the pick is the baseline config")
    why += [f"ruled out {x.label}: {x.constraint}: {x.detail}" for x in r.excluded.itertuples()]
    return head, body, why


def heading(r: Recommendation) -> str:
    """' (memory budget 40 GiB, at most 2 GPUs, numerics ok)' for the constraints given, else ''."""
    c = r.constraints
    parts = ([f"memory budget {c['memory_budget_gib']:g} GiB"] if "memory_budget_gib" in c else []) + \
            ([f"at most {c['gpus']} GPU{'s' if c['gpus'] != 1 else ''}"] if "gpus" in c else []) + (["numerics ok"] if "require_numerics" in c else [])
    return f" ({', '.join(parts)})" if parts else ""


def render(r: Recommendation) -> Group:
    head, body, why = lines(r)
    t = Table(title=escape(f"recommend: {r.objective}{heading(r)} ({'higher' if r.higher_is_better else 'lower'} is better); "
                           "= tie (not separable by the repeats), - unranked (too few repeats), * the pick"), title_justify="left")
    for h in head:
        t.add_column(escape(h))
    for b in body:
        t.add_row(*map(escape, b))
    return Group(t, *(Text(line) for line in why))


def markdown(r: Recommendation) -> str:
    head, body, why = lines(r)
    out = [f"### Recommendation: {md_cell(f'{r.objective}{heading(r)}')}", "", "| " + " | ".join(map(md_cell, head)) + " |",
           "|" + "---|" * len(head)]
    out += ["| " + " | ".join(md_cell(s) for s in b) + " |" for b in body]
    out += ["", "`=` a tie (the repeats do not separate the configs), `-` unranked (too few repeats), `*` the pick "
            "(the leanest of rank 1 among those equivalent to its leader).", ""]
    out += [f"- {md_cell(line)}" for line in why]
    return "\n".join(out) + "\n"
