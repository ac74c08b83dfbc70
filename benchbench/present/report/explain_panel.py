"""The report's "explain" panel: a roofline chart of every config, and for each config that a comparison
judged faster or slower with profiles on both sides, its device-time categories A vs B, the kernels
that moved most and the host share, titled with the one-line explanation (analysis/explain.py)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from benchbench.analysis import bound, explain
from benchbench.basics.device import peak_gb_per_s
from benchbench.present.report.charts import AXIS, CATEGORY_COLORS, LAYOUT, esc
from benchbench.present.report.data import PROFILE_CATEGORIES

BOUND_COLORS = {"compute": "#4C78A8", "memory bandwidth": "#54A24B", "host/launch": "#E45756",
                "communication": "#B279A2", None: "#9D755D"}
MAX_PANELS = 12  # explained configs per report


def _finish(fig: go.Figure, title: str, height: int) -> dict:
    fig.update_layout(**LAYOUT, title=dict(text=esc(title), x=0.005, xanchor="left", xref="container", y=1,
                                           yanchor="top", yref="container", pad=dict(t=12), font=dict(size=14)),
                      height=height)
    fig.update_xaxes(**AXIS)
    fig.update_yaxes(**AXIS)
    d = fig.to_plotly_json()
    d["layout"].pop("template", None)
    return d


def roofline(runs) -> dict | None:
    """Achieved TFLOP/s against arithmetic intensity (analytic bytes), per config of every run, under the
    roofs of the devices' peaks; the colour is the bound class."""
    pts, roofs = [], set()
    for run in runs:
        b = bound.per_config(run.rows, peak_gb_per_s)
        if b.empty:
            continue
        names = dict(zip(run.configs["config_id"], run.configs["label"])) if len(run.configs) else {}
        for cid, r in b.iterrows():
            if r["intensity_flop_per_byte"] is None or r["achieved_tflops_per_s"] is None:
                continue
            pts.append((run.name, names.get(cid, cid), r))
            if r["peak_tflops"] and r["peak_gb_per_s"]:
                roofs.add((float(r["peak_tflops"]), float(r["peak_gb_per_s"])))
    if not pts:
        return None
    fig = go.Figure()
    xs = [float(r["intensity_flop_per_byte"]) for _, _, r in pts]
    grid = np.geomspace(min(xs) / 3, max(xs) * 3, 60)
    for peak, bw in sorted(roofs):
        fig.add_trace(go.Scatter(x=grid, y=np.minimum(peak, grid * bw / 1e3), mode="lines", showlegend=True,
                                 name=f"roof: {peak:g} TFLOP/s, {bw:g} GB/s", line=dict(color="#7b8794", dash="dot")))
    for kind in dict.fromkeys(r["bound"] for _, _, r in pts):
        sel = [(n, lab, r) for n, lab, r in pts if r["bound"] == kind]
        fig.add_trace(go.Scatter(
            x=[float(r["intensity_flop_per_byte"]) for _, _, r in sel],
            y=[float(r["achieved_tflops_per_s"]) for _, _, r in sel], mode="markers", name=esc(kind or "unknown"),
            marker=dict(size=10, color=BOUND_COLORS.get(kind, "#9D755D")),
            text=[esc(f"{n}: {lab}" if len(runs) > 1 else lab) for n, lab, _ in sel],
            hovertemplate="%{text}<br>%{x:.0f} FLOP/byte, %{y:.0f} TFLOP/s<extra>" + esc(kind or "") + "</extra>"))
    fig.update_xaxes(type="log", title_text="arithmetic intensity (FLOP per byte; bytes: analytic lower bound)")
    fig.update_yaxes(type="log", title_text="achieved TFLOP/s per GPU")
    return _finish(fig, "Roofline: each config against its device's peaks (colour: what bounds it)", 460)


def config_panel(e, a_name: str, b_name: str) -> dict:
    """Device time by category A vs B (and GPU idle), and the kernels that moved most."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.22,
                        subplot_titles=("ms per step by category", "kernels that moved most (B - A, ms/step)"))
    cats = [c for c in PROFILE_CATEGORIES if any(e.categories.get(c, (0, 0)))]
    for side, name, k in (("A", a_name, 0), ("B", b_name, 1)):
        y = [e.categories[c][k] * 1e3 for c in cats] + [(e.host.get(f"idle_s_{side.lower()}") or 0) * 1e3]
        fig.add_trace(go.Bar(x=[PROFILE_CATEGORIES[c] for c in cats] + ["GPU idle"], y=y, name=esc(f"{side}: {name}"),
                             marker=dict(color="#9aa5b1" if side == "A" else "#4C78A8")), row=1, col=1)
    ks = [*e.kernels.get("new", [])[:3], *e.kernels.get("vanished", [])[:3], *e.kernels.get("moved", [])[:6]]
    ks = sorted(ks, key=lambda r: -abs((r["b_s"] or 0) - (r["a_s"] or 0)))[:8]
    fig.add_trace(go.Bar(y=[esc(r["label"][:40]) for r in ks], x=[((r["b_s"] or 0) - (r["a_s"] or 0)) * 1e3 for r in ks],
                         orientation="h", showlegend=False,
                         marker=dict(color=[CATEGORY_COLORS.get(r["category"], "#9D755D") for r in ks])), row=1, col=2)
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed", automargin=True, row=1, col=2)
    h = e.host
    host = (f"GPU busy {h.get('busy_frac_a') or 0:.0%} -> {h.get('busy_frac_b') or 0:.0%}; "
            f"unexplained {e.part('unexplained').share:.0%}")
    return _finish(fig, f"{e.label}: {e.lead} ({host})", 420)


def explanations(rep) -> list[tuple[int, str, object]]:
    """(comparison index, run name, Explanation) of every config a comparison judged faster or slower whose
    runs both carry profiles (at most MAX_PANELS per comparison)."""
    out, first = [], rep.runs[0]
    for k, (name, t) in enumerate(rep.comparisons):
        other = next((r for r in rep.runs if r.name == name), None)
        if other is None or not explain.profiled(first.rows) or not explain.profiled(other.rows):
            continue
        for cid in list(t.loc[t["verdict"].isin(("faster", "slower")), "config_id"])[:MAX_PANELS]:
            try:
                e = explain.explain_config(first.rows[first.rows["config_id"] == cid],
                                           other.rows[other.rows["config_id"] == cid], first.path, other.path)
            except explain.ExplainError:
                continue
            e.label = t.set_index("config_id").at[cid, "label"]
            out.append((k, name, e))
    return out


def figures(rep) -> list[tuple[str, str, dict]]:
    """("explain", id, figure) for the report: the roofline, then one panel per explained config."""
    out = []
    fig = roofline(rep.runs)
    if fig:
        out.append(("explain", "fig-roofline", fig))
    for k, name, e in explanations(rep):
        out.append(("explain", f"fig-explain-{k}-{e.config_id}", config_panel(e, rep.runs[0].name, name)))
    return out


def lines(rep) -> list[str]:
    """The one-line explanations, for the markdown report."""
    return [f"{name}, {e.label}: {e.lead}" for _, name, e in explanations(rep)]
