"""Markdown for pull-request comments: compare tables and the gate's summary (verdict first)."""

from __future__ import annotations

import math

import pandas as pd

from benchbench.analysis.gate import GateResult


def fmt(x, metric: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if metric.endswith("_bytes"):
        for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(x) < 1024 or unit == "TiB":
                return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
            x /= 1024
    if metric.startswith("step_time_s"):
        return f"{x * 1e3:.2f} ms"
    if abs(x) >= 1e7:  # FLOPs per step and the like
        return f"{x:.4g}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _cell(r, side: str, metric: str) -> str:
    v = r[f"{side}_value"]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return r[f"status_{side}"] or "-"
    return f"{fmt(v, metric)} [{fmt(r[f'{side}_ci_low'], metric)}, {fmt(r[f'{side}_ci_high'], metric)}]"


def _esc(s) -> str:
    return str(s).replace("|", "\\|")


def compare_table(t: pd.DataFrame, a_name: str = "A", b_name: str = "B") -> str:
    """One markdown table: label, both values with 95% CIs, ratio, p, verdict."""
    metric = t.attrs.get("metric", "")
    lines = [f"| config | {_esc(a_name)} | {_esc(b_name)} | ratio | p | verdict |", "|---|---:|---:|---:|---:|---|"]
    for _, r in t.iterrows():
        ratio = "-" if r["ratio"] is None or pd.isna(r["ratio"]) else f"{r['ratio']:.3f}x"
        p = "-" if pd.isna(r["p_value"]) else f"{r['p_value']:.2g}"
        verdict = r["verdict"] + (f" ({r['note']})" if r["note"] else "")
        lines.append(f"| {_esc(r['label'])} | {_cell(r, 'a', metric)} | {_cell(r, 'b', metric)} | {ratio} | {p} | "
                     f"{_esc(verdict)} |")
    return "\n".join(lines)


def gate_summary(res: GateResult, baseline: str, run: str, level: float) -> str:
    """Verdict first (the environment change in the same first line), the regressed rows, then the
    full tables collapsed."""
    reg = res.regressions
    n_configs = len(set().union(*(set(t["config_id"]) for t in res.tables.values()))) if res.tables else 0
    if len(reg):
        head = f"**benchbench gate: FAIL** - {len(reg)} regression{'s' if len(reg) != 1 else ''} " \
               f"({reg['config_id'].nunique()} of {n_configs} configs)"
    else:
        head = f"**benchbench gate: PASS** - no regression ({n_configs} configs, {len(res.rules)} rules)"
    if res.env_changes:
        head += " - **environment changed, compared anyway (--allow-env-change)**: " + "; ".join(res.env_changes)
    out = [head, "", f"Run `{run}` against baseline `{baseline}`; rules: "
           + ", ".join(f"`{r}`" for r in res.rules)
           + f". A regression exceeds the rule's threshold and is significant at p < {level:g} "
             "(Mann-Whitney U, or non-overlapping 95% CIs when samples are few; deterministic metrics: threshold "
             "only), or a config that was ok is now failing or missing."]
    for n in res.notes:
        out.append(f"- note: {n}")
    if len(reg):
        out += ["", "| rule | config | baseline | run | change | verdict |", "|---|---|---:|---:|---:|---|"]
        for _, r in reg.iterrows():
            metric = r["metric"]
            change = "-" if r["change"] is None or pd.isna(r["change"]) else f"{r['change']:+.1%}"
            verdict = r["verdict"] + (f" ({r['note']})" if r["note"] else "")
            out.append(f"| `{r['rule']}` | {_esc(r['label'])} | {_cell(r, 'a', metric)} | {_cell(r, 'b', metric)} | "
                       f"{change} | {_esc(verdict)} |")
    out += ["", "<details><summary>All configs</summary>", ""]
    for name, t in res.tables.items():
        out += [f"`{name}`", "", compare_table(t, "baseline", "run"), ""]
    out.append("</details>")
    return "\n".join(out) + "\n"
