"""The report as markdown (tables only): for a terminal or a pull-request comment."""

from __future__ import annotations

from benchbench.present import markdown as md
from benchbench.present.report import Report
from benchbench.present.report.html import table_rows


def _esc(s) -> str:
    """A table cell: pipes escaped, one line, no HTML (a pull-request comment would render it)."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def render(rep: Report) -> str:
    out = [f"# {_esc(rep.title)}", ""]
    for h in rep.headers:
        sw = ", ".join(f"{k} {v}" for k, v in h["software"])
        out.append(f"- **{_esc(h['name'])}**: suite `{_esc(h['suite'])}` on {_esc(h['device'])}, "
                   f"{(h['started'] or '?')[:16].replace('T', ' ')} UTC; {_esc(sw)}"
                   + (f"; commit `{h['commit']}`" if h["commit"] else "")
                   + f"; {h['configs']} configs (" + ", ".join(f"{n} {s}" for s, n in h["statuses"].items()) + ")")
    if rep.swept:
        out.append("- swept: " + "; ".join(f"{_esc(a)} = {_esc(', '.join(v))}" for a, v in rep.swept.items()))
    for b in rep.baseline:
        if b.result is None:
            out.append(f"- baseline `{rep.baseline_path}`: not gated ({_esc(b.error)})")
        else:
            n = len(b.result.regressions)
            out.append(f"- baseline `{rep.baseline_path}`: **{'FAIL' if n else 'PASS'}** for {_esc(b.run)}"
                       + (f" ({n} regressions)" if n else "")
                       + (f"; environment changed: {_esc('; '.join(b.result.env_changes))}" if b.result.env_changes else ""))
    if rep.highlights:
        out.append("- " + "; ".join(f"{w}: {_esc(v)}" + (f" ({_esc(c)})" if c else "") for w, v, c in rep.highlights))
    axes, rows = table_rows(rep, rep.runs[0].path)
    thr = rep.runs[0].configs.attrs.get("throughput", "tokens_per_s")
    multi = len(rep.runs) > 1
    head = (["run"] if multi else []) + axes + ["status", thr, "speedup", "step ms", "peak GiB", "MFU %", "mJ/token",
                                               "repeats", "reason"]
    out += ["", "## Configs", "", "| " + " | ".join(map(_esc, head)) + " |",
            "|" + "|".join("---:" if h in (thr, "speedup", "step ms", "peak GiB", "MFU %", "mJ/token") else "---"
                           for h in head) + "|"]
    for r in rows:
        cells = {c[0]: c[1] for c in r["cells"]}
        status = r["status"] + (" ★" if r["pareto"] else "") + (" (base)" if r["base"] else "") \
            + (f", numerics {r['numerics']}" if r["numerics"] in ("diverged", "error") else "")
        vals = ([r["run"]] if multi else []) + r["axes"] + [status, cells["throughput"], cells["speedup"], cells["step"],
                                                           cells["memory"], cells["mfu"], cells["energy"], r["repeats_ok"],
                                                           r["reason"][:120]]
        out.append("| " + " | ".join(_esc(v) for v in vals) + " |")
    out.append("\n★ on the throughput/memory Pareto front.")
    for name, t in rep.comparisons:
        out += ["", f"## {_esc(name)} vs {_esc(rep.runs[0].name)}", "", md.compare_table(t, rep.runs[0].name, name)]
    for b in rep.baseline:
        if b.result is not None and len(b.result.regressions):
            out += ["", f"## Regressions against the baseline ({_esc(b.run)})", "",
                    md.gate_summary(b.result, rep.baseline_path, b.run, 0.05)]
    return "\n".join(out) + "\n"
