"""Markdown, the one place it is written: compare tables, the gate's summary (verdict first) and the
report's tables, for pull-request comments and terminals."""

from __future__ import annotations

import math
import re

import pandas as pd

from benchbench.analysis import family
from benchbench.analysis.gate import GateResult
from benchbench.basics.units import human_bytes
from benchbench.spec import catalogue


def fmt(x, metric: str = "") -> str:
    """One value of `metric` in a compare cell: bytes in binary units, step times in ms (the catalogue's unit)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    declared = catalogue.lookup(metric) if metric else None
    if (declared is not None and declared.unit == "bytes") or metric.endswith("_bytes"):
        return human_bytes(x)
    if metric.startswith("step_time_s"):
        return f"{x * 1e3:.2f} ms"
    if abs(x) >= 1e7:  # FLOPs per step and the like
        return f"{x:.4g}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def cell(r, side: str, metric: str) -> str:
    v = r[f"{side}_value"]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return r[f"status_{side}"] or "-"
    return f"{fmt(v, metric)} [{fmt(r[f'{side}_ci_low'], metric)}, {fmt(r[f'{side}_ci_high'], metric)}]"


def ratio_text(r) -> str:
    """'0.947x [0.942, 0.953]': the ratio b/a with its 95% interval when there is one."""
    if r["ratio"] is None or pd.isna(r["ratio"]):
        return "-"
    lo, hi = r.get("ratio_ci_low"), r.get("ratio_ci_high")
    ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and not pd.isna(lo) else ""
    return f"{r['ratio']:.3f}x{ci}"


def repeats_text(r) -> str:
    """'3/3': the ok repeats each side had (the samples every timing verdict is made from)."""
    return f"{int(r['a_n']) if not pd.isna(r['a_n']) else 0}/{int(r['b_n']) if not pd.isna(r['b_n']) else 0}"


def md_cell(s) -> str:
    """Text for a markdown table cell or line, the one escaping every markdown writer uses: one line, pipes
    escaped, no HTML (a pull-request comment would render a branch name's or a reason's tags)."""
    text = " ".join(str(s).splitlines()) if s is not None else ""
    # `<` opens a tag and `&name;` an entity; a lone `&` (A&B) or `>` (ok -> oom, 112 GiB > 80 GiB) is itself
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    if "<" in text:
        text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


_esc = md_cell


def compare_table(t: pd.DataFrame, a_name: str = "A", b_name: str = "B") -> str:
    """One markdown table: label, both values with 95% CIs, repeats per side, ratio with its CI, verdict."""
    metric = t.attrs.get("metric", "")
    lines = [f"| config | {_esc(a_name)} | {_esc(b_name)} | repeats | ratio [95% CI] | verdict |",
             "|---|---:|---:|---:|---:|---|"]
    for _, r in t.iterrows():
        verdict = r["verdict"] + (f" ({r['note']})" if r["note"] else "")
        lines.append(f"| {_esc(r['label'])} | {cell(r, 'a', metric)} | {cell(r, 'b', metric)} | {repeats_text(r)} | "
                     f"{ratio_text(r)} | {_esc(verdict)} |")
    return "\n".join(lines)


def gate_summary(res: GateResult, baseline: str, run: str, level: float) -> str:
    """Verdict first (the environment change in the same first line), the regressed rows, then the
    full tables collapsed."""
    reg = res.regressions
    n_configs = len(set().union(*(set(t["config_id"]) for t in res.tables.values()))) if res.tables else 0
    if res.outcome == "FAIL":
        head = f"**benchbench gate: FAIL** - {len(reg)} regression{'s' if len(reg) != 1 else ''} " \
               f"({reg['config_id'].nunique()} of {n_configs} configs)"
    elif res.inconclusive and res.inconclusive.startswith("nothing judged"):
        head = f"**benchbench gate: INCONCLUSIVE** - {_esc(res.inconclusive)}"
    elif res.outcome == "INCONCLUSIVE":
        head = f"**benchbench gate: INCONCLUSIVE** - the timing rules cannot be judged ({_esc(res.inconclusive)})"
    else:
        head = f"**benchbench gate: PASS** - no regression ({n_configs} configs, {len(res.rules)} rules)"
    if res.env_changes:
        head += " - **environment changed, compared anyway (--allow-env-change)**: " + "; ".join(res.env_changes)
    out = [head, "", f"Run `{run}` against baseline `{baseline}`; rules: "
           + ", ".join(f"`{r}`" for r in res.rules)
           + f". A regression exceeds the rule's threshold and its p-value, adjusted over every config and rule "
             f"together ({family.level_text(res.family, level)}), is below {level:g}, "
             "with at least 3 ok repeats on each side (the repeat is the unit; deterministic metrics: threshold "
             "only), or a config that was ok is now failing or missing."]
    for n in res.notes:
        out.append(f"- note: {n}")
    if len(reg):
        out += ["", "| rule | config | baseline | run | change | verdict |", "|---|---|---:|---:|---:|---|"]
        for _, r in reg.iterrows():
            metric = r["metric"]
            change = "-" if r["change"] is None or pd.isna(r["change"]) else f"{r['change']:+.1%}"
            verdict = r["verdict"] + (f" ({r['note']})" if r["note"] else "")
            out.append(f"| `{r['rule']}` | {_esc(r['label'])} | {cell(r, 'a', metric)} | {cell(r, 'b', metric)} | "
                       f"{change} | {_esc(verdict)} |")
    out += ["", "<details><summary>All configs</summary>", ""]
    for name, t in res.tables.items():
        out += [f"`{name}`", "", compare_table(t, "baseline", "run"), ""]
    out.append("</details>")
    return "\n".join(out) + "\n"


_text = md_cell


def report(rep) -> str:
    """The report (present/report.Report) as markdown: tables only, for a terminal or a pull-request comment."""
    from benchbench.present.report.html import (  # the HTML table's rows
        extra_columns,
        shown_columns,
        table_rows,
    )

    out = [f"# {_text(rep.title)}", ""]
    for h in rep.headers:
        sw = ", ".join(f"{k} {v}" for k, v in h["software"])
        out.append(f"- **{_text(h['name'])}**: suite `{_text(h['suite'])}` on {_text(h['device'])}, "
                   f"{(h['started'] or '?')[:16].replace('T', ' ')} UTC; {_text(sw)}"
                   + (f"; commit `{h['commit']}`" if h["commit"] else "")
                   + f"; {h['configs']} configs (" + ", ".join(f"{n} {s}" for s, n in h["statuses"].items()) + ")"
                   + ("; **smoke run: tiny scale, no speedups; not a measurement**" if h.get("smoke") else ""))
    if rep.swept:
        out.append("- swept: " + "; ".join(f"{_text(a)} = {_text(', '.join(v))}" for a, v in rep.swept.items()))
    for b in rep.baseline:
        if b.result is None:
            out.append(f"- baseline `{rep.baseline_path}`: not gated ({_text(b.error)})")
        else:
            n, word = len(b.result.regressions), b.result.outcome
            out.append(f"- baseline `{rep.baseline_path}`: **{word}** for {_text(b.run)}"
                       + (f" ({n} regressions)" if n else "")
                       + (f" (too noisy to judge the timing rules: {_text(b.result.inconclusive)})"
                          if word == "INCONCLUSIVE" else "")
                       + (f"; environment changed: {_text('; '.join(b.result.env_changes))}" if b.result.env_changes else ""))
    if rep.highlights:
        out.append("- " + "; ".join(f"{w}: {_text(v)}" + (f" ({_text(c)})" if c else "") for w, v, c in rep.highlights))
    axes, rows = table_rows(rep, rep.runs[0].path)
    thr = rep.runs[0].configs.attrs.get("throughput", "tokens_per_s")
    multi = len(rep.runs) > 1
    shown = shown_columns(rows)
    extra = [m for m in extra_columns() if m.name in shown]  # the catalogue's report columns with a value
    numbers = [thr, "speedup", "step ms", "peak GiB", "MFU %", "mJ/token", *(m.label or m.name for m in extra)]
    head = (["run"] if multi else []) + axes + ["status", *numbers, "repeats", "reason"]
    out += ["", "## Configs", "", "| " + " | ".join(map(_esc, head)) + " |",
            "|" + "|".join("---:" if h in numbers else "---" for h in head) + "|"]
    for r in rows:
        cells = {c[0]: c[1] for c in r["cells"]}
        status = r["status"] + (" ★" if r["pareto"] else "") + (" (base)" if r["base"] else "") \
            + (f", numerics {r['numerics']}" if r["numerics"] in ("diverged", "error") else "")
        vals = ([r["run"]] if multi else []) + r["axes"] + [status, cells["throughput"], cells["speedup"], cells["step"],
                                                           cells["memory"], cells["mfu"], cells["energy"],
                                                           *(cells[m.name] for m in extra), r["repeats_ok"],
                                                           r["reason"][:120]]
        out.append("| " + " | ".join(_text(v) for v in vals) + " |")
    out.append("\n★ on the throughput/memory Pareto front.")
    for name, t in rep.comparisons:
        out += ["", f"## {_text(name)} vs {_text(rep.runs[0].name)}", "", compare_table(t, rep.runs[0].name, name)]
    from benchbench.present.report import explain_panel  # why each verdict (both runs profiled)

    why = explain_panel.lines(rep)
    out += ["", "## Why (`benchbench explain`)", "", *(f"- {_text(w)}" for w in why)] if why else []
    for b in rep.baseline:
        if b.result is not None and len(b.result.regressions):
            out += ["", f"## Regressions against the baseline ({_text(b.run)})", "",
                    gate_summary(b.result, rep.baseline_path, b.run, 0.05)]
    return "\n".join(out) + "\n"


def pivot_table(p: pd.DataFrame) -> str:
    """compare --by's matrix (analysis/pivot.py) as a markdown table."""
    lines = ["| " + " | ".join(map(md_cell, p.columns)) + " |", "|" + "---|" * len(p.columns)]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in p.itertuples(index=False)]
    return "\n".join(lines)
