"""The HTML report: report data into one Jinja2 template, plotly.js and the figures inlined.

Autoescaping is on: every value from a suite, a row or an environment is text, never markup. The
figures go into <script type="application/json"> blocks with <, > and & escaped, so no string in
them can close the script element.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import plotly
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from benchbench.present.report import Report, finite
from benchbench.spec import catalogue

STATUS_CLASS = {"ok": "ok", "oom": "oom", "error": "err", "killed": "err", "timeout": "warn", "skipped": "skip"}


def script_json(obj) -> Markup:
    """JSON safe inside a <script> element: no '</script>' or '<!--' can appear in it."""
    text = json.dumps(obj, separators=(",", ":"), default=_default, allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def _default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _clean(obj):
    """NaN and infinities become null (JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _clean(obj.tolist())
    return obj


def _fmt(x, spec: str, scale: float = 1.0, unit: str = "") -> str:
    return f"{x * scale:{spec}}{unit}" if finite(x) else "–"


def _sort(x) -> str:
    return repr(float(x)) if finite(x) else ""


def table_rows(rep: Report, out_dir: Path) -> tuple[list[str], list[dict]]:
    """The configs table: (axes shown, one dict per (run, config) with display text and sort keys)."""
    axes = list(rep.swept)
    extra = extra_columns()
    rows = []
    for run in rep.runs:
        t = run.configs
        thr = t.attrs.get("throughput", "tokens_per_s")
        verdicts = rep.verdicts.get(run.name, {})
        for _, r in t.iterrows():
            links = [(text, os.path.relpath(run.path / rel, out_dir)) for text, rel in r["artifacts"]]
            # the prediction is of the device allocator's peak: never set beside a host RSS (a CPU run)
            predicted = r["predicted_peak_bytes"] if r["peak_memory_kind"] == "allocator" else float("nan")
            cells = [
                ("throughput", _fmt(r[thr], ",.0f"), _sort(r[thr]),
                 f"95% CI {_fmt(r['throughput_ci_low'], ',.0f')} – {_fmt(r['throughput_ci_high'], ',.0f')}"),
                ("speedup", _fmt(r["speedup"], ".2f", unit="×"), _sort(r["speedup"]), ""),
                ("step", _fmt(r["step_time_s_median"], ".1f", 1e3), _sort(r["step_time_s_median"]), "median step time, ms"),
                ("memory", _fmt(r["peak_memory_bytes"], ".2f", 1 / 2**30), _sort(r["peak_memory_bytes"]),
                 f"{_fmt(r['peak_memory_bytes'], ',.0f')} bytes ({r['peak_memory_kind']})"),
                ("predicted", _fmt(predicted, ".2f", 1 / 2**30), _sort(predicted),
                 "the memory model's predicted allocator peak" + (f"; predicted / measured - 1 = {r['predicted_peak_error']:+.1%}"
                                                                  if finite(r["predicted_peak_error"]) else "")),
                ("mfu", _fmt(r["mfu"], ".1f", 100), _sort(r["mfu"]), ""),
                ("energy", _fmt(r["j_per_token"], ".3g", 1e3), _sort(r["j_per_token"]), "mJ per token"),
                ("util", _fmt(r["gpu_util_pct_mean"], ".0f"), _sort(r["gpu_util_pct_mean"]), "NVML utilization, mean %"),
                ("cv", _fmt(r["run_to_run_cv"], ".1f", 100), _sort(r["run_to_run_cv"]),
                 "run-to-run coefficient of variation of throughput over repeats, %"),
                *((m.name, _declared(m, r.get(m.name)), _sort(r.get(m.name)), m.description) for m in extra),
            ]
            rows.append({
                "run": run.name, "config_id": r["config_id"], "label": r["label"],
                "axes": [str(r[a]) if a in r and r[a] == r[a] else "–" for a in axes],
                "status": r["status"], "status_class": STATUS_CLASS.get(r["status"], "err"),
                "reason": str(r["reason"] or ""), "repeats_ok": r["repeats_ok"], "pareto": bool(r["pareto"]),
                "base": r["config_id"] == t.attrs.get("baseline_id"), "cells": cells, "links": links,
                "verdict": verdicts.get(r["config_id"], ""), "numerics": r.get("numerics", ""),
            })
    return axes, rows


def extra_columns() -> list:
    """The catalogue's metrics with a column in the configs table beside the fixed ones (a plug-in's, say)."""
    return catalogue.shown_in("report")


def _declared(m, x) -> str:
    """A value as its declaration formats it ("–" when missing, as every cell)."""
    return catalogue.format_value(m.name, x) if finite(x) else "–"


def shown_columns(rows: list[dict]) -> set[str]:
    """Metric columns that have a value in some row (a CPU run has no MFU, energy or GPU util)."""
    return {c[0] for r in rows for c in r["cells"] if c[1] != "–"}


def environment() -> Environment:
    env = Environment(loader=PackageLoader("benchbench.present.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x: _fmt(x, ".1%")
    env.filters["num"] = lambda x, spec=",.0f": _fmt(x, spec)
    return env


def render(rep: Report, out_dir: str | Path = ".") -> str:
    out_dir = Path(out_dir)
    axes, rows = table_rows(rep, out_dir)
    template = environment().get_template("report.html.j2")
    mem_kind = rep.runs[0].configs["peak_memory_kind"].iloc[0] if len(rep.runs[0].configs) else ""
    return template.render(
        rep=rep, axes=axes, rows=rows, shown=shown_columns(rows), mem_kind=mem_kind,
        extra=[(m.name, m.label or m.name, f"{m.description} ({m.unit})" if m.unit else m.description)
               for m in extra_columns()],
        throughput=rep.runs[0].configs.attrs.get("throughput", "tokens_per_s"),
        statuses=list(dict.fromkeys(r["status"] for r in rows)),
        figures=[(section, fid, script_json(_clean(fig))) for section, fid, fig in rep.figures],
        sections={s for s, _, _ in rep.figures}, plotly_js=Markup(get_plotlyjs()), plotly_version=plotly.__version__,
        css=Markup(_asset("report.css")), js=Markup(_asset("report.js")),
    )


def _asset(name: str) -> str:
    return (Path(__file__).parent / "templates" / name).read_text()


def write(rep: Report, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(rep, path.parent), encoding="utf-8")
    return path
