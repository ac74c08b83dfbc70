"""Summary statistics of a sample of measurements (step times, per-repeat throughputs).

One function computes every field, with names that say what they are. The confidence interval
of the median is a percentile bootstrap with a fixed seed, so the same samples always give the
same interval.
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def bootstrap_ci(samples, stat=np.median, confidence: float = CONFIDENCE, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0):
    """Percentile-bootstrap confidence interval of `stat` over `samples`: (low, high)."""
    x = np.asarray(samples, dtype=float)
    if x.size == 0:
        return (float("nan"), float("nan"))
    if x.size == 1:
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))
    values = stat(x[idx], axis=1)
    alpha = (1 - confidence) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))


def summarize(samples, prefix: str) -> dict:
    """{prefix}_median, _mean, _std, _min, _max, _p05, _p95, _iqr, _cv, _ci_low, _ci_high, _n."""
    x = np.asarray(samples, dtype=float)
    if x.size == 0:  # the same columns as any other sample, so rows line up
        nan = float("nan")
        return {f"{prefix}_n": 0, **{f"{prefix}_{k}": nan for k in
                ("median", "mean", "std", "min", "max", "p05", "p95", "iqr", "cv", "ci_low", "ci_high")}}
    q05, q25, q50, q75, q95 = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    lo, hi = bootstrap_ci(x)
    return {
        f"{prefix}_n": int(x.size),
        f"{prefix}_median": float(q50),
        f"{prefix}_mean": mean,
        f"{prefix}_std": std,
        f"{prefix}_min": float(x.min()),
        f"{prefix}_max": float(x.max()),
        f"{prefix}_p05": float(q05),
        f"{prefix}_p95": float(q95),
        f"{prefix}_iqr": float(q75 - q25),
        f"{prefix}_cv": std / mean if mean else float("nan"),
        f"{prefix}_ci_low": lo,
        f"{prefix}_ci_high": hi,
    }
