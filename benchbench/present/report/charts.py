"""Plotly figures of a report, as JSON-ready dicts (plotly.js, inlined by html.py, draws them).

Each function takes report data (data.Run objects, per-config tables) and returns a figure dict,
or None when the runs have nothing to show for it (no profile, no energy, one config...). Text that
came from the user (axis values, config labels) is HTML-escaped: plotly renders a subset of HTML
in labels and hover text.
"""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from benchbench.basics.units import GIB
from benchbench.present.report.data import PROFILE_CATEGORIES, Run, pareto
from benchbench.spec import catalogue

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#BAB0AC",
           "#FF9DA6"]
CATEGORY_COLORS = {"matmul": "#4C78A8", "attention": "#F58518", "norm_elementwise": "#54A24B",
                   "optimizer": "#B279A2", "communication": "#E45756", "memcpy": "#72B7B2", "other": "#9D755D",
                   "idle": "#D5D9E0"}
LAYOUT = dict(
    font=dict(family="-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
              size=12, color="#1f2933"),
    paper_bgcolor="white", plot_bgcolor="white", colorway=PALETTE, hovermode="closest",
    margin=dict(l=60, r=20, t=84, b=56), legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"),
    hoverlabel=dict(bgcolor="white", font_size=12),
)
MAX_BARS = 60  # configs in a bar chart; beyond that the chart shows the most telling ones and says so
AXIS = dict(gridcolor="#e8ebf0", zeroline=False, linecolor="#c5cbd3", ticks="outside", tickcolor="#c5cbd3")
# Per-axis metrics: (per_config column, title, scale, tick format)
PER_AXIS = (("speedup", "speedup vs the baseline config", 1, ".2f"),
            ("peak_memory_bytes", "peak memory (GiB)", 1 / GIB, ".1f"),
            ("mfu", "MFU (%)", 100, ".1f"),
            ("j_per_token", "energy per token (mJ)", 1e3, ".3g"))


def esc(x) -> str:
    return html.escape(str(x), quote=False)


def _finish(fig: go.Figure, title: str, height: int = 420) -> dict:
    fig.update_layout(**LAYOUT, title=dict(text=esc(title), x=0.005, xanchor="left", xref="container", y=1,
                                                 yanchor="top", yref="container", pad=dict(t=12), font=dict(size=15)), height=height)
    fig.update_xaxes(**AXIS)
    fig.update_yaxes(**AXIS)
    d = fig.to_plotly_json()
    d["layout"].pop("template", None)  # plotly's default template: 10 kB a chart, and LAYOUT replaces it
    return d


def _ok(t):
    return t[t["status"] == "ok"]


def colour_axis(run: Run) -> str | None:
    """The axis that colours a single run's points: the suite's first swept axis that varies (what
    the suite's author put first), else the first varying one."""
    axes = run.configs.attrs.get("axes") or []
    sweep = run.suite.get("sweep") if isinstance(run.suite.get("sweep"), dict) else {}
    return next((a for a in sweep if a in axes), axes[0] if axes else None)


def cost_column(runs: list[Run]) -> str | None:
    """usd_per_mtoken (usd_per_msample for models without tokens) when the first run's rows carry a price."""
    t = runs[0].configs if runs else None
    return next((c for c in ("usd_per_mtoken", "usd_per_msample") if t is not None and c in t and t[c].notna().any()),
                None)


def cost_vs_memory(runs: list[Run]) -> dict | None:
    """The scatter with cost as its axis: US dollars per million tokens (samples) against peak memory,
    down and left is better; None when no run has a price (price_per_gpu_hour)."""
    col = cost_column(runs)
    if col is None:
        return None
    unit = "million tokens" if col == "usd_per_mtoken" else "million samples"
    fig = throughput_vs_memory(runs, metric=col, higher=False)
    if fig is None:
        return None
    fig["layout"]["yaxis"].update(title=dict(text=f"US dollars per {unit}"), tickformat="$.3~g")
    fig["layout"]["title"]["text"] = esc(f"Cost ({col}) vs peak memory (down and left is better; ringed: the "
                                         "Pareto front)")
    return fig


def throughput_vs_memory(runs: list[Run], metric: str | None = None, higher: bool = True) -> dict | None:
    """Throughput (or `metric`, e.g. a cost with higher=False) against peak memory, every ok config a
    point; the Pareto front joined by a line. One run: coloured by its first swept axis; several
    runs: one colour per run."""
    fig, n = go.Figure(), 0
    thr = metric or runs[0].configs.attrs.get("throughput", "tokens_per_s")
    kind = runs[0].configs["peak_memory_kind"].iloc[0] if len(runs[0].configs) else "allocator"
    for k, run in enumerate(runs):
        if thr not in run.configs:
            continue
        t = _ok(run.configs).dropna(subset=[thr, "peak_memory_bytes"])
        if t.empty:
            continue
        t = t.assign(pareto=pareto(t, thr, higher)) if metric else t
        axis = colour_axis(run)
        groups = [(f"{axis}={v}", g) for v, g in t.groupby(axis, sort=False)] if len(runs) == 1 and axis else \
            [(run.name, t)]
        for name, g in groups:
            n += len(g)
            fig.add_trace(go.Scatter(
                x=g["peak_memory_bytes"] / GIB, y=g[thr], mode="markers", name=esc(name),
                text=[esc(x) for x in g["label"]], customdata=g["speedup"],
                marker=dict(size=10, line=dict(width=1, color="white"), symbol=k % 20),
                hovertemplate="%{text}<br>%{y:" + (",.0f" if metric is None else ".4g") + "} " + thr.replace("_per_s", "/s") +
                              "<br>%{x:.2f} GiB<br>speedup %{customdata:.2f}x<extra></extra>"))
        front = t[t["pareto"]].sort_values("peak_memory_bytes")
        if len(front) > 1 or len(runs) == 1:
            fig.add_trace(go.Scatter(
                x=front["peak_memory_bytes"] / GIB, y=front[thr], mode="lines+markers",
                name="Pareto front" + (f" ({esc(run.name)})" if len(runs) > 1 else ""),
                line=dict(color="#1f2933", width=1.5, dash="dot", shape="hv"),
                marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(width=2, color="#1f2933")),
                text=[esc(x) for x in front["label"]], hovertemplate="Pareto: %{text}<extra></extra>"))
    if n == 0:
        return None
    fig.update_xaxes(title_text=f"peak memory, GiB ({kind})", rangemode="tozero")
    fig.update_yaxes(title_text=thr.replace("_per_s", " per second"), rangemode="tozero", tickformat="~s")
    return _finish(fig, "Throughput vs peak memory (up and left is better; ringed: the Pareto front)", 480)


def per_axis(run: Run) -> list[dict]:
    """For each metric with values: one panel per swept axis, a box of the configs at each value."""
    t = _ok(run.configs)
    axes = run.configs.attrs.get("axes") or []
    if not axes or len(t) < 2:
        return []
    out = []
    declared = tuple((m.name, f"{m.label or m.name} ({m.unit})" if m.unit else m.label or m.name, 1, ".4~g")
                     for m in catalogue.shown_in("chart"))  # the catalogue's own panels (a plug-in's metric)
    for col, title, scale, fmt in PER_AXIS + declared:
        if col not in t or not t[col].notna().any():
            continue
        cols = min(len(axes), 4)
        rows = math.ceil(len(axes) / cols)
        fig = make_subplots(rows=rows, cols=cols, subplot_titles=[esc(a) for a in axes], shared_yaxes=True,
                            horizontal_spacing=0.04, vertical_spacing=0.18)
        for i, a in enumerate(axes):
            sub = t.dropna(subset=[col])
            fig.add_trace(go.Box(
                x=[esc(v) for v in sub[a].astype(str)], y=sub[col] * scale, boxpoints="all", jitter=0.4,
                pointpos=0, name=esc(a), showlegend=False, marker=dict(size=6, color=PALETTE[i % len(PALETTE)]),
                line=dict(width=1), fillcolor="rgba(0,0,0,0.03)", text=[esc(x) for x in sub["label"]],
                hovertemplate="%{text}<br>%{y:" + fmt + "}<extra></extra>"), row=i // cols + 1, col=i % cols + 1)
        if col == "speedup":
            fig.add_hline(y=1, line=dict(color="#9aa5b1", width=1, dash="dash"))
        fig.update_yaxes(tickformat=fmt, rangemode="tozero")
        fig.update_xaxes(type="category")   # axis values are names, even when they look like numbers (batch 8, 16, 32)
        fig.update_yaxes(title_text=esc(title), col=1)
        out.append(_finish(fig, f"{title} by axis", 320 * rows + 90))
    return out


def profile(run: Run) -> dict | None:
    """Stacked bars: the share of the profiled window's GPU time in each kernel category, per config."""
    t = run.configs
    cols = [f"gpu_time_{c}" for c in (*PROFILE_CATEGORIES, "idle")]
    t = t[t[cols].notna().any(axis=1)] if all(c in t for c in cols) else t.iloc[0:0]
    if t.empty:
        return None
    n = len(t)
    if n > MAX_BARS:  # the Pareto front first, then the fastest
        thr = run.configs.attrs.get("throughput", "tokens_per_s")
        t = t.assign(_f=~t["pareto"]).sort_values(["_f", thr], ascending=[True, False]).head(MAX_BARS)
    fig = go.Figure()
    labels = [esc(x) for x in t["label"]]
    for c, name in (*PROFILE_CATEGORIES.items(), ("idle", "idle")):
        fig.add_trace(go.Bar(y=labels, x=t[f"gpu_time_{c}"] * 100, name=name, orientation="h",
                             marker=dict(color=CATEGORY_COLORS[c]),
                             hovertemplate="%{y}<br>" + name + ": %{x:.1f}%<extra></extra>"))
    fig.update_layout(barmode="stack", yaxis=dict(autorange="reversed", automargin=True),
                      legend=dict(traceorder="normal"))
    where = device_word(run)
    fig.update_xaxes(title_text=f"share of the profiled window's {where} time (%)", range=[0, 100])
    more = f"; {len(t)} of {n} configs: the Pareto front, then the fastest" if n > len(t) else ""
    return _finish(fig, f"Where the {where} time goes (profiled window, by kernel category{more})", 170 + 26 * len(t))


def device_word(run: Run) -> str:
    """GPU when the profiler timed CUDA kernels, else CPU (a CPU run's profile is of CPU ops)."""
    dev = run.rows["profile_device"].dropna() if "profile_device" in run.rows else []
    return "GPU" if len(dev) and (dev == "cuda").any() else "CPU"


def runs_side_by_side(runs: list[Run], verdicts: dict[str, dict[str, str]]) -> dict | None:
    """Several runs: each config's throughput per run with its 95% CI; the verdict vs the first run
    in the hover text."""
    if len(runs) < 2:
        return None
    thr = runs[0].configs.attrs.get("throughput", "tokens_per_s")
    order = list(dict.fromkeys(x for r in runs for x in r.configs["config_id"]))
    n = len(order)
    if n > MAX_BARS:  # the configs with a verdict first (faster, slower, changed), then in suite order
        changed = {c for v in verdicts.values() for c, x in v.items() if x not in ("same", "undecided")}
        order = sorted(order, key=lambda c: c not in changed)[:MAX_BARS]
    label = {cid: lab for r in runs for cid, lab in zip(r.configs["config_id"], r.configs["label"])}
    fig = go.Figure()
    for run in runs:
        t = run.configs.set_index("config_id").reindex(order)
        # a run with no ok row, or of another metric, has no bars (not an error)
        t = t.reindex(columns=list(dict.fromkeys([*t.columns, thr, "throughput_ci_low", "throughput_ci_high"])))
        v = t[thr]
        fig.add_trace(go.Bar(
            y=[esc(label[c]) for c in order], x=v, name=esc(run.name), orientation="h",
            error_x=dict(type="data", symmetric=False, array=(t["throughput_ci_high"] - v).clip(lower=0),
                         arrayminus=(v - t["throughput_ci_low"]).clip(lower=0), thickness=1.2, width=3),
            text=[esc(verdicts.get(run.name, {}).get(c, "")) for c in order],
            hovertemplate="%{y}<br>%{x:,.0f}<br>%{text}<extra>" + esc(run.name) + "</extra>"))
    fig.update_layout(barmode="group", yaxis=dict(autorange="reversed", automargin=True))
    fig.update_xaxes(title_text=thr.replace("_per_s", " per second") + " (bars: median, whiskers: 95% CI)",
                     tickformat="~s")
    more = f"; {len(order)} of {n} configs, those with a verdict first" if n > len(order) else ""
    return _finish(fig, f"{thr} per run (verdicts against {runs[0].name}{more})",
                   160 + len(order) * (14 * len(runs) + 10))


def trend(pts, marks: dict, title: str, metric: str) -> dict:
    """One config's value with its 95% interval at every commit of the history; change points (`marks`: point
    index -> step text) as dashed lines at the commit that changed it."""
    x = [str(c)[:8] or f"run {i + 1}" for i, c in enumerate(pts["git_commit"])]
    when = [str(t)[:16] for t in pts["commit_time"]]
    v = list(pts["value"])
    up = [hi - val if hi == hi else 0 for hi, val in zip(pts["ci_high"], v)]
    down = [val - lo if lo == lo else 0 for lo, val in zip(pts["ci_low"], v)]
    fig = go.Figure(go.Scatter(x=x, y=v, mode="lines+markers", name=metric, line=dict(color=PALETTE[0]),
                               error_y=dict(type="data", array=up, arrayminus=down, visible=True, thickness=1),
                               customdata=when, hovertemplate="%{x} (%{customdata})<br>%{y:,.4g}<extra></extra>"))
    for i, text in marks.items():
        fig.add_vline(x=i - 0.5, line=dict(color=PALETTE[3], dash="dash", width=1.5))
        fig.add_annotation(x=i - 0.5, y=1, yref="paper", text=esc(text), showarrow=False, yanchor="bottom",
                           font=dict(color=PALETTE[3], size=11))
    fig.update_yaxes(title_text=esc(metric))
    fig.update_xaxes(type="category", title_text="commit")
    return _finish(fig, title, height=320)
