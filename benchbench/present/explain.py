"""An explanation (analysis/explain.py) as text, markdown or JSON; the bound (analysis/bound.py) in words."""

from __future__ import annotations

import dataclasses
import json
import math

from benchbench.basics.units import human_bytes

TOP_KERNELS = 5


def _ms(s) -> str:
    return "-" if s is None or s != s else f"{s * 1e3:.2f}"


def _pct(x) -> str:
    return "-" if x is None or x != x or math.isinf(x) else f"{x:.0%}"


def _share(p) -> str:
    return f"{_pct(p.share)} [{_pct(p.share_low)}, {_pct(p.share_high)}]"


def parts_rows(e) -> list[tuple[str, str, str]]:
    """(part, ms/step B - A, share [range]) of every part that moved, and always `unexplained`."""
    rows = []
    for p in e.parts:
        if p.name != "unexplained" and abs(p.delta_s) < 1e-7:
            continue
        rows.append((p.name, f"{p.delta_s * 1e3:+.3f}", _share(p)))
    return rows


def kernel_rows(e, n: int = TOP_KERNELS) -> list[tuple[str, str, str, str, str]]:
    """(kernel, category, A ms/step, B ms/step, change) of the new, vanished and most moved kernels."""
    k = e.kernels
    out = [(r["label"], r["category"], "-", _ms(r["b_s"]), "new in B") for r in k.get("new", [])[:n]]
    out += [(r["label"], r["category"], _ms(r["a_s"]), "-", "gone in B") for r in k.get("vanished", [])[:n]]
    out += [(r["label"], r["category"], _ms(r["a_s"]), _ms(r["b_s"]), f"{r['delta_s'] * 1e3:+.3f} ms ({_pct(r['share'])})")
            for r in k.get("moved", [])[:n] if abs(r["delta_s"]) > 1e-7]
    return out


def _host_line(e) -> str:
    h = e.host
    return (f"GPU busy {_pct(h.get('busy_frac_a'))} -> {_pct(h.get('busy_frac_b'))} of the step; idle "
            f"{_ms(h.get('idle_s_a'))} -> {_ms(h.get('idle_s_b'))} ms/step; host syncs per step "
            f"{_n(h.get('host_syncs_per_step_a'))} -> {_n(h.get('host_syncs_per_step_b'))}; "
            f"{h.get('class_a')} -> {h.get('class_b')}"
            + (f"; engine hooks on the host {_ms(h.get('hook_s_a'))} -> {_ms(h.get('hook_s_b'))} ms/step"
               if h.get("hook_s_a") or h.get("hook_s_b") else "")
            + (f"; the loop thread's CPU time {_ms(h.get('host_cpu_s_a'))} -> {_ms(h.get('host_cpu_s_b'))} ms/step"
               if h.get("host_cpu_s_a") or h.get("host_cpu_s_b") else ""))


def _n(x) -> str:
    return "-" if x is None or x != x else f"{x:g}"


def _comm_line(e) -> str | None:
    c = e.communication
    if all(v[0] is None for v in c.values()):
        return None
    side = [f"{s.upper()} {_ms(t)} ms/step of which {_ms(x)} exposed" for s, (t, x) in c.items() if t is not None]
    return "collectives (rank 0's trace): " + "; ".join(side)


def _ranks_line(e) -> str | None:
    if not e.ranks:
        return None
    side = [f"{s.upper()} " + ", ".join(f"r{i} {_ms(x)} / {_ms(o)}" for i, (x, o) in enumerate(r)) for s, r in e.ranks.items()]
    return "collectives per rank (ms/step exposed / overlapped by compute): " + "; ".join(side)


def python_rows(e) -> list[tuple[str, str, str, str]]:
    """(function, A ms/step, B ms/step, change) of the py-spy functions that moved most."""
    return [(r["function"], _ms(r["a_s"]), _ms(r["b_s"]), f"{r['delta_s'] * 1e3:+.3f} ms ({_pct(r['share'])})")
            for r in (e.python or {}).get("functions", [])]


def _python_head(e) -> str:
    p = e.python
    return (f"python functions (py-spy self time, ms/step A -> B; sampled {_ms(p['sampled_a_s'])} -> "
            f"{_ms(p['sampled_b_s'])} ms/step; share of the step time's change):")


def _memory_line(e) -> str | None:
    m = e.memory
    if "peak_allocated_bytes" not in m:
        return None
    a, b = m["peak_allocated_bytes"]
    line = f"allocator peak {human_bytes(a)} -> {human_bytes(b)}"
    if m.get("grew_most"):
        ga, gb = m[m["grew_most"]]
        line += f"; changed most: {m['grew_most']} {human_bytes(ga)} -> {human_bytes(gb)}"
    return line


def text(e) -> str:
    """Plain text, one explanation."""
    out = [f"{e.label}: {e.lead}",
           f"  step {_ms(e.step_a_s)} -> {_ms(e.step_b_s)} ms (median of {e.repeats[0]} and {e.repeats[1]} profiled "
           "repeats); shares [range over repeat pairs]:"]
    out += [f"    {n:<40} {d:>10} ms  {s}" for n, d, s in parts_rows(e)]
    ks = kernel_rows(e)
    if ks:
        out.append("  kernels (ms/step A -> B):")
        out += [f"    {k:<32} {c:<17} {a:>8} -> {b:<8} {d}" for k, c, a, b, d in ks]
    out.append("  host: " + _host_line(e))
    if e.python:
        out.append("  " + _python_head(e))
        out += [f"    {f:<48} {a:>8} -> {b:<8} {d}" for f, a, b, d in python_rows(e)]
    for extra in (_comm_line(e), _ranks_line(e), _memory_line(e)):
        if extra:
            out.append("  " + extra)
    out += [f"  note: {n}" for n in e.notes]
    return "\n".join(out)


def markdown(e) -> str:
    """A markdown section, one explanation."""
    out = [f"### `{e.label}`", "", f"**{e.lead}** (step {_ms(e.step_a_s)} -> {_ms(e.step_b_s)} ms)", "",
           "| part | ms/step (B - A) | share of the change [range over repeat pairs] |", "|---|---:|---:|"]
    out += [f"| {n} | {d} | {s} |" for n, d, s in parts_rows(e)]
    ks = kernel_rows(e)
    if ks:
        out += ["", "| kernel | category | A ms/step | B ms/step | change |", "|---|---|---:|---:|---|"]
        out += [f"| `{k}` | {c} | {a} | {b} | {d} |" for k, c, a, b, d in ks]
    out += ["", "- host: " + _host_line(e)]
    if e.python:
        out += [f"- {_python_head(e)}", "", "| function | A ms/step | B ms/step | change |", "|---|---:|---:|---|"]
        out += [f"| `{f}` | {a} | {b} | {d} |" for f, a, b, d in python_rows(e)] + [""]
    out += [f"- {x}" for x in (_comm_line(e), _ranks_line(e), _memory_line(e)) if x]
    out += [f"- note: {n}" for n in e.notes]
    return "\n".join(out) + "\n"


def categories_markdown(e) -> str:
    """Device time per category, A and B side by side (the report's explain panel)."""
    out = ["| category | A ms/step | B ms/step |", "|---|---:|---:|"]
    out += [f"| {c} | {_ms(a)} | {_ms(b)} |" for c, (a, b) in e.categories.items() if (a or 0) or (b or 0)]
    return "\n".join(out)


def to_json(explanations, bounds: dict | None = None) -> str:
    """Every explanation as JSON (seconds per step, shares as fractions)."""
    def enc(e):
        d = dataclasses.asdict(e)
        d.update(delta_s=e.delta_s, delta_frac=e.delta_frac)
        if bounds and e.config_id in bounds:
            d["bound"] = bounds[e.config_id]
        return d
    return json.dumps([enc(e) for e in explanations], indent=1, default=_default)


def _default(o):
    if isinstance(o, (set, tuple)):
        return list(o)
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def bound_line(side: str, b: dict) -> str:
    """One config's bound in words, e.g. "A: host/launch (GPU busy 43% ...); 277 TFLOP/s, 455 GB/s, 28% of the roofline"."""
    if not b or not b.get("bound"):
        return f"{side}: bound unknown (no device peaks or profile)"
    nums = []
    if b.get("achieved_tflops_per_s") is not None:
        nums.append(f"{b['achieved_tflops_per_s']:.0f} TFLOP/s")
    if b.get("achieved_gb_per_s") is not None:
        nums.append(f">= {b['achieved_gb_per_s']:.0f} GB/s")
    if b.get("roofline_frac") is not None:
        nums.append(f"{b['roofline_frac']:.0%} of the roofline")
    return f"{side}: {b['bound']} ({b['bound_basis']})" + (f"; {', '.join(nums)}" if nums else "")
