"""What a report shows, computed from stored runs only (rows.jsonl, run.json, env.json, suite.yaml).

load_run() reads one run directory; per_config() makes its one-row-per-config table (tables.summary
plus CIs, energy per token, GPU time by category and artifact paths); pareto() marks the
throughput/memory front; header() says where the numbers come from. Nothing here formats HTML.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchbench.analysis import compare
from benchbench.analysis import summary as tables
from benchbench.spec import catalogue
from benchbench.spec.yaml_loader import data_or_none
from benchbench.store import results

# GPU time categories of collectors/trace_summary.py, in stacking order, with the names people use.
PROFILE_CATEGORIES = {"matmul": "GEMM", "attention": "attention", "norm_elementwise": "elementwise / norm",
                      "optimizer": "optimizer", "communication": "communication", "memcpy": "copies",
                      "other": "other"}
# Files a config may leave in its run directory: (row column or path pattern, link text).
ARTIFACTS = (("profile_trace", "profiler trace"), ("pyspy_flamegraph", "flame graph"),
             ("pyspy_speedscope", "speedscope"), ("artifacts/{cid}-r{k}/deepspeed_config.json", "DeepSpeed config"),
             ("configs/{cid}.json", "config"), ("log", "log"))
ENV_KEYS = (("python", "Python"), ("torch_version", "torch"), ("cuda_version", "CUDA"), ("cudnn_version", "cuDNN"),
            ("driver_version", "driver"), ("deepspeed_version", "DeepSpeed"), ("benchbench_version", "benchbench"))


@dataclass
class Run:
    name: str                 # how the report calls it (the directory's name, made unique)
    path: Path
    rows: pd.DataFrame
    run: dict
    env: dict
    suite: dict               # the suite file as stored with the run ({} when absent)
    configs: pd.DataFrame = field(default_factory=pd.DataFrame)   # per_config()


def _read_json(path: Path) -> dict:
    try:
        return results.read_json(path)
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise results.StoreError(f"{path}: not valid JSON ({e})") from None


def load_run(path: str | Path, name: str | None = None) -> Run:
    path = Path(path)
    rows = results.load(path)
    if rows.empty:
        raise results.StoreError(f"{path}: the run has no rows")
    suite = data_or_none(path / "suite.yaml") or {}  # the suite loader's limits: a stored file may be hostile
    r = Run(name=name or path.resolve().name, path=path, rows=rows, run=_read_json(path / "run.json"),
            env=_read_json(path / "env.json"), suite=suite if isinstance(suite, dict) else {})
    r.configs = per_config(r)
    return r


def load_runs(paths) -> list[Run]:
    runs, seen = [], {}
    for p in paths:
        name = Path(p).resolve().name
        seen[name] = seen.get(name, 0) + 1
        runs.append(load_run(p, name if seen[name] == 1 else f"{name} ({seen[name]})"))
    return runs


def _median(s: pd.Series) -> float:
    s = pd.to_numeric(s, errors="coerce").dropna()
    return float(s.median()) if len(s) else math.nan


def per_config(run: Run) -> pd.DataFrame:
    """tables.summary() of the run plus: label, throughput CI, J per token, GPU util, GPU time by
    category, artifact links (paths relative to the run directory)."""
    df = run.rows
    t = tables.summary(df, run.run.get("baseline_config_id"), smoke=bool(run.run.get("smoke")))
    thr = t.attrs["throughput"]
    labels = compare.labels(df)
    extra = []
    by_config = dict(tuple(df.groupby("config_id", sort=False)))
    for cid in t["config_id"]:
        g = by_config[cid]
        ok = g[g["status"] == "ok"]
        groups, _ = compare.samples(g, thr)
        _, lo, hi, _ = compare.summarize(groups, thr)
        rec = {"label": labels.get(cid, cid), "throughput_ci_low": lo, "throughput_ci_high": hi,
               "j_per_token": 1 / _median(ok["tokens_per_j"]) if "tokens_per_j" in ok and _median(ok["tokens_per_j"]) > 0 else math.nan,
               "gpu_util_pct_mean": _median(ok["gpu_util_pct_mean"]) if "gpu_util_pct_mean" in ok else math.nan,
               # the memory model's prediction, stored in the row (GPU rows also carry the error)
               "predicted_peak_bytes": _median(g["predicted_peak_bytes"]) if "predicted_peak_bytes" in g else math.nan,
               "predicted_peak_error": _median(ok["predicted_peak_error"]) if "predicted_peak_error" in ok else math.nan,
               "power_w_mean": _median(ok["power_w_mean"]) if "power_w_mean" in ok else math.nan}
        busy = _median(ok["profile_busy_frac"]) if "profile_busy_frac" in ok else math.nan
        for c in PROFILE_CATEGORIES:
            share = _median(ok[f"profile_share_{c}"]) if f"profile_share_{c}" in ok else math.nan
            rec[f"gpu_time_{c}"] = share * busy if not math.isnan(busy) else share
        rec["gpu_time_idle"] = 1 - busy if not math.isnan(busy) else math.nan
        for m in report_metrics():  # the catalogue's report and chart columns the summary lacks: their medians
            if m.name not in t.columns:
                rec[m.name] = _median(ok[m.name]) if m.name in ok else math.nan
        rec["artifacts"] = artifacts(run.path, cid, g)
        extra.append(rec)
    out = pd.concat([t.reset_index(drop=True), pd.DataFrame(extra)], axis=1)
    out["pareto"] = pareto(out, thr)
    out.attrs.update(t.attrs)
    return out


def report_metrics() -> list:
    """The catalogue's metrics with a column (report) or a per-axis panel (chart) of their own in the report."""
    return [m for m in catalogue.every() if {"report", "chart"} & set(m.views)]


def artifacts(run_dir: Path, cid: str, rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(link text, path relative to the run directory) of the files this config left that exist:
    the first repeat's that has each."""
    out = []
    cols = ["repeat", *(k for k, _ in ARTIFACTS if k in rows.columns)]
    records = rows[cols].sort_values("repeat").to_dict("records")
    for key, text in ARTIFACTS:
        for r in records:
            rel = key.format(cid=cid, k=r["repeat"]) if "/" in key else r.get(key)
            if isinstance(rel, str) and rel and (run_dir / rel).is_file():
                out.append((text, rel))
                break
    return out


def pareto(t: pd.DataFrame, thr: str, higher: bool = True) -> list[bool]:
    """True for the ok configs no other config beats on both `thr` (throughput: higher; a cost such
    as usd_per_mtoken: higher=False) and peak memory (lower): the configs worth choosing between."""
    ok = t[(t["status"] == "ok") & t[thr].notna() & t["peak_memory_bytes"].notna()]
    sign = 1 if higher else -1
    front, best = set(), -math.inf
    for i, r in ok.sort_values(["peak_memory_bytes", thr], ascending=[True, not higher]).iterrows():
        if sign * r[thr] > best:
            front.add(i)
            best = sign * r[thr]
    return [i in front for i in t.index]


def swept(runs: list[Run]) -> dict[str, list[str]]:
    """Every axis that varies in any run, with its values in order of appearance."""
    out: dict[str, list[str]] = {}
    for r in runs:
        for a in tables.varying_axes(r.rows):
            vals = out.setdefault(a, [])
            vals += [v for v in dict.fromkeys(r.rows[a].astype(str)) if v not in vals]
    return out


def device(env: dict) -> str:
    if env.get("gpu_count"):
        n = env["gpu_count"]
        return f"{env.get('gpu_name')} ({n} on the host)" if n > 1 else str(env.get("gpu_name"))
    return f"CPU: {env.get('cpu_model') or 'unknown'} ({env.get('cpu_count', '?')} cores)"


def header(run: Run) -> dict:
    """Where one run's numbers come from."""
    env, info = run.env, run.run
    statuses = run.configs["status"].value_counts().to_dict() if len(run.configs) else {}
    commit = env.get("git_commit")
    return {
        "name": run.name, "suite": info.get("suite") or run.suite.get("name") or "?",
        "description": " ".join(str(run.suite.get("description") or "").split()),
        "started": info.get("started_at"), "finished": info.get("finished_at"),
        "interrupted": bool(info.get("interrupted")), "smoke": bool(info.get("smoke")),
        "device": device(env), "host": env.get("hostname"),
        "software": [(label, env[k]) for k, label in ENV_KEYS if env.get(k) not in (None, "")],
        "commit": (commit[:12] + (" (dirty)" if env.get("git_dirty") else "")) if commit else None,
        "configs": len(run.configs), "statuses": statuses,
        "baseline_config": run.configs.attrs.get("baseline_id"),
    }
