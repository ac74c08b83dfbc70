"""One row per config from stored rows (results.load), never from a live run: what tables, reports and
baselines show."""

from __future__ import annotations

import pandas as pd

from benchbench.analysis import cost
from benchbench.analysis import value as values
from benchbench.spec import catalogue
from benchbench.spec.config import FIELDS, NOT_IN_ID


def optional() -> tuple[str, ...]:
    """Per-config medians included when any config measured them (GPU collectors, several ranks, a plug-in's
    column): the metrics the catalogue shows in the table."""
    return tuple(m.name for m in catalogue.shown_in("table"))
# The worst status of a config's repeats names the config
STATUS_ORDER = ("error", "killed", "timeout", "oom", "skipped", "ok")


def varying_axes(df: pd.DataFrame) -> list[str]:
    """Config fields that differ between the configs of `df`, in RunConfig order."""
    cols = [f for f in FIELDS if f in df.columns and f not in NOT_IN_ID]
    per_config = df.drop_duplicates("config_id")
    # null is a value here, so a setting left null in some configs and set in others varies (astype(str) keeps
    # a string column's missing values missing, and nunique() does not count them)
    return [c for c in cols if per_config[c].astype(object).map(lambda v: "null" if _missing(v) else str(v)).nunique() > 1]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


NUMERICS_ORDER = ("diverged", "error", "ok", "unchecked")


def numerics_verdict(rows: pd.DataFrame) -> str:
    """The worst numerics verdict over a config's ok repeats ("" when no repeat was checked)."""
    if "numerics" not in rows:
        return ""
    got = set(rows.loc[rows["status"] == "ok", "numerics"].dropna())
    return next((v for v in NUMERICS_ORDER if v in got), "")


def worst_status(s: pd.Series) -> str:
    """The status that names a config: the worst of its repeats' (STATUS_ORDER)."""
    present = set(s)
    return next(st for st in STATUS_ORDER if st in present) if present <= set(STATUS_ORDER) else s.iloc[0]


def is_smoke(df: pd.DataFrame) -> bool:
    """Whether the rows come from a --smoke run (every smoke row carries smoke: true)."""
    return "smoke" in df and bool(df["smoke"].fillna(False).astype(bool).any())


def summary(df: pd.DataFrame, baseline_id: str | None = None, smoke: bool = False) -> pd.DataFrame:
    """One row per config: the varying axes, throughput (median over repeats), speedup vs the
    baseline config, step time, peak memory, status and reason; the cost per million tokens
    (samples) where the rows carry price_per_gpu_hour / price_per_kwh (analysis/cost.py).
    A smoke run (`smoke`, or rows marked smoke) has no speedups or scaling efficiencies: at tiny
    scale they say nothing about the configs (attrs smoke=True)."""
    if df.empty:  # e.g. a run whose only row was torn
        return pd.DataFrame()
    df = cost.with_cost(df)  # usd_per_mtoken (or per million samples) where the rows carry a price
    axes = varying_axes(df)
    thr_col = values.throughput_column(df)
    # One kind of memory for the whole table (its column has one header): the allocator's peak
    # when any config measured it (CUDA), else the host's resident set.
    all_ok = df[df["status"] == "ok"]
    mem = "peak_allocated_bytes" if "peak_allocated_bytes" in all_ok and all_ok["peak_allocated_bytes"].notna().any() else "peak_rss_bytes"
    out = []
    for cid, g in df.groupby("config_id", sort=False):
        ok = g[g["status"] == "ok"]
        rec = {"config_id": cid, **{a: g[a].iloc[0] for a in axes}}
        rec["status"] = worst_status(g["status"])
        rec["repeats_ok"] = f"{len(ok)}/{len(g)}"
        # the config's value (analysis/value.py): the one every view shows
        rec[thr_col] = values.config_value(g, thr_col)
        per_repeat = values.repeat_values(ok, thr_col)
        rec["run_to_run_cv"] = per_repeat.std(ddof=1) / per_repeat.mean() if len(ok) > 1 else float("nan")
        step = values.config_value(g, "step_time_s") if "step_times_s" in ok else float("nan")
        rec["step_time_s_median"] = step if step == step else (
            ok["step_time_s_median"].median() if "step_time_s_median" in ok and len(ok) else float("nan"))
        rec["peak_memory_bytes"] = ok[mem].max() if mem in ok and len(ok) else float("nan")
        rec["peak_memory_kind"] = "allocator" if mem == "peak_allocated_bytes" else "host RSS"
        for col in optional():  # present only where a collector could measure them (GPU)
            rec[col] = ok[col].median() if col in ok and ok[col].notna().any() else float("nan")
        if "mfu" in ok and ok["mfu"].notna().any():  # MFU and cost follow from the throughput shown
            rec["mfu"] = values.proportional(ok, "mfu", thr_col, rec[thr_col])
        rec.update(cost.config_costs(ok, thr_col, rec[thr_col]))
        reasons = g["reason"].dropna() if "reason" in g else pd.Series(dtype=str)
        rec["reason"] = reasons.iloc[0] if len(reasons) else ""
        rec["numerics"] = numerics_verdict(g)
        if rec["numerics"] in ("diverged", "error"):
            why = ok["numerics_reason"].dropna() if "numerics_reason" in ok else pd.Series(dtype=str)
            rec["reason"] = f"numerics {rec['numerics']}: {why.iloc[0]}" if len(why) else rec["reason"]
        out.append(rec)
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table["scaling_efficiency"] = _scaling_efficiency(df, table, thr_col)
    base = baseline_id if baseline_id in set(table["config_id"]) else table["config_id"].iloc[0]
    base_thr = table.loc[table["config_id"] == base, thr_col].iloc[0]
    table["speedup"] = table[thr_col] / base_thr
    smoke = bool(smoke) or is_smoke(df)
    if smoke:
        table["speedup"] = table["scaling_efficiency"] = float("nan")
    table.attrs.update(throughput=thr_col, baseline_id=base, axes=axes, smoke=smoke)
    return table


def _scaling_efficiency(df: pd.DataFrame, table: pd.DataFrame, thr_col: str) -> list[float]:
    """Throughput at N ranks / (N x throughput at 1 rank) of the config that differs only in world_size."""
    if "world_size" not in df or df["world_size"].nunique() < 2:
        return [float("nan")] * len(table)
    fields = [f for f in FIELDS if f in df.columns and f not in ("world_size", "repeats", "timeout_s")]
    per_config = df.drop_duplicates("config_id").set_index("config_id")
    key = {cid: tuple(str(per_config.at[cid, f]) for f in fields) for cid in per_config.index}
    thr = dict(zip(table["config_id"], table[thr_col]))
    single = {key[cid]: thr[cid] for cid in thr if per_config.at[cid, "world_size"] == 1}
    out = []
    for cid in table["config_id"]:
        n, one = per_config.at[cid, "world_size"], single.get(key[cid])
        out.append(thr[cid] / (n * one) if one and n > 1 else float("nan"))
    return out
