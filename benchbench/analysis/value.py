"""A config's value: the one number every view shows for a config and a metric.

The value is the median over the config's ok repeats of each repeat's statistic: for throughput and
step time, the repeat's median over its per-step samples (`tokens_per_step / step_time`, compare's
samples); for any other column, the repeat's own value. `table`, `compare`, `report`, `recommend`,
`history` and the exports all take it from here, and the derived columns (MFU, cost per million
tokens) are derived from it, so two views of one run never show two numbers for one config.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchbench.basics import stats
from benchbench.spec.metrics import STEP_TIME

# Columns proportional to throughput within one repeat (the same step time divides the same work):
# their value is the config's throughput value times the repeat's ratio column / throughput.
PROPORTIONAL = ("mfu", "hfu", "mfu_fp8", "model_tflops_per_s", "hardware_tflops_per_s")


# metric -> (numerator column per step, scale): the metric's per-step sample is numerator / step time
PER_STEP = {
    "tokens_per_s": ("tokens_per_step", 1.0),
    "samples_per_s": ("samples_per_step", 1.0),
    "model_tflops_per_s": ("model_flops_per_step", 1e-12),
    "hardware_tflops_per_s": ("hardware_flops_per_step", 1e-12),
}
# step_time_s_<stat>: that statistic of all ok steps (step_time_s alone: the median). _p05 is "the fast
# steps", which other jobs on a shared machine disturb least. Other step_time_s_* columns (std, cv,
# iqr, ...) are compared as per-repeat values.
STEP_STATS = {"min": np.min, "max": np.max, "mean": np.mean, "median": np.median,
              "p05": lambda x, axis=None: np.quantile(x, 0.05, axis=axis),
              "p95": lambda x, axis=None: np.quantile(x, 0.95, axis=axis)}
def samples(rows: pd.DataFrame, metric: str) -> tuple[list[np.ndarray], str]:
    """The metric's samples in the ok rows of one config, grouped by repeat: (groups, kind)."""
    ok = rows[rows["status"] == "ok"]
    base = STEP_TIME if metric == STEP_TIME or metric.removeprefix(STEP_TIME + "_") in STEP_STATS else metric
    if (base == STEP_TIME or base in PER_STEP) and "step_times_s" in ok:
        groups = []
        for _, r in ok.iterrows():
            t = np.asarray(r["step_times_s"] if isinstance(r["step_times_s"], (list, np.ndarray)) else [], dtype=float)
            t = t[np.isfinite(t) & (t > 0)]
            if base == STEP_TIME:
                groups.append(t)
            else:
                num, scale = PER_STEP[base]
                n = r.get(num)
                if n is None or pd.isna(n):
                    groups = []
                    break
                groups.append(float(n) * scale / t)
        if groups and any(g.size for g in groups):
            return groups, "steps"
    if metric not in ok:
        return [], "repeats"
    values = pd.to_numeric(ok[metric], errors="coerce").dropna().to_numpy(dtype=float)
    return [values[i:i + 1] for i in range(values.size)], "repeats"


def location(metric: str):
    """The statistic a metric's value is: np.median, or step_time_s_<stat>'s (STEP_STATS)."""
    stat = metric.removeprefix(STEP_TIME + "_") if metric.startswith(STEP_TIME + "_") else ""
    return STEP_STATS.get(stat, np.median)


def of_groups(groups, metric: str) -> float:
    """The value from a config's samples grouped by repeat (compare.samples): the median over repeats of
    each repeat's statistic; deterministic metrics: the largest (peaks) or the median of all values."""
    from benchbench.spec.metrics import is_deterministic

    groups = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not groups:
        return math.nan
    if is_deterministic(metric):
        flat = np.concatenate(groups)
        return float(np.max(flat)) if metric.startswith("peak_") else float(np.median(flat))
    return float(np.median(stats.per_repeat(groups, location(metric))))


def config_value(rows: pd.DataFrame, metric: str) -> float:
    """The value of one config's rows (any statuses; only ok repeats count); NaN without one."""
    if rows is None or rows.empty or "status" not in rows:
        return math.nan
    groups, _ = samples(rows, metric)
    return of_groups(groups, metric)


def repeat_values(rows: pd.DataFrame, metric: str) -> pd.Series:
    """Each row's own statistic of `metric` (the repeat's median per-step throughput; NaN for rows that
    are not ok or lack it), indexed like `rows`: what a per-row derived column (cost) is computed from."""
    out = pd.Series(math.nan, index=rows.index, dtype=float)
    for idx in rows.index[rows["status"] == "ok"] if "status" in rows else []:
        groups, _ = samples(rows.loc[[idx]], metric)
        if groups and len(groups[0]):
            out[idx] = float(location(metric)(np.asarray(groups[0], dtype=float)))
    return out


def proportional(rows: pd.DataFrame, column: str, thr_col: str, thr_value: float) -> float:
    """A column proportional to throughput (MFU, TFLOP/s) from the config's throughput value:
    thr_value x the median over ok repeats of column / throughput (a constant within a config)."""
    ok = rows[rows["status"] == "ok"] if "status" in rows else rows
    if column not in ok or thr_col not in ok or not math.isfinite(thr_value):
        return math.nan
    ratio = pd.to_numeric(ok[column], errors="coerce") / pd.to_numeric(ok[thr_col], errors="coerce")
    ratio = ratio[np.isfinite(ratio)]
    return float(thr_value * ratio.median()) if len(ratio) else math.nan


def throughput_column(df: pd.DataFrame) -> str:
    """tokens_per_s where any row measured it, else samples_per_s (image models)."""
    return "tokens_per_s" if "tokens_per_s" in df.columns and df["tokens_per_s"].notna().any() else "samples_per_s"
