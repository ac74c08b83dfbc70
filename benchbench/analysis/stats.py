"""Summary statistics of a sample of measurements (step times, per-repeat throughputs).

One function computes every field, with names that say what they are. The confidence interval
of the median is a percentile bootstrap with a fixed seed, so the same samples always give the
same interval.
"""

from __future__ import annotations

import math

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
NAN_AWARE = {np.median: np.nanmedian, np.mean: np.nanmean, np.min: np.nanmin, np.max: np.nanmax}
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


# ---------------------------------------------------------------- two-sample significance (compare, gate)


def _ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based, ties share their mean rank) and the sizes of the tie groups."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_x)) + 1]
    counts = np.diff(np.r_[starts, x.size])
    mean_rank = starts + (counts + 1) / 2.0  # 1-based mean rank of each tie group
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(mean_rank, counts)
    return ranks, counts


def _u_exact_sf(u: float, n1: int, n2: int) -> float:
    """P(U >= u) under H0 for samples of n1 and n2 without ties: counts of U by dynamic programming."""
    # f[j][k]: number of arrangements of j items of the first sample and k of the second with U = index
    # built with the recurrence N(u; m, n) = N(u - n; m - 1, n) + N(u; m, n - 1).
    m, n = (n1, n2) if n1 <= n2 else (n2, n1)
    size = m * n + 1
    prev = [np.zeros(size) for _ in range(n + 1)]  # row for m' = 0: U = 0 in exactly one way
    for k in range(n + 1):
        prev[k][0] = 1.0
    for _ in range(1, m + 1):
        cur = [np.zeros(size) for _ in range(n + 1)]
        cur[0][0] = 1.0
        for k in range(1, n + 1):
            shifted = np.zeros(size)
            shifted[k:] = prev[k][:size - k]
            cur[k] = shifted + cur[k - 1]
        prev = cur
    counts = prev[n]
    total = counts.sum()
    return float(counts[int(np.ceil(u)):].sum() / total)


def mann_whitney_u(a, b) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: (U of `a`, p-value).

    Matches scipy.stats.mannwhitneyu(a, b) with its defaults (method "auto": exact when one sample
    has at most 8 values and there are no ties, else the normal approximation with tie and
    continuity corrections); tests/unit/test_stats.py checks it against scipy."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    ranks, ties = _ranks(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    u = max(u1, n1 * n2 - u1)
    if (n1 > 8 and n2 > 8) or (ties > 1).any():
        n = n1 + n2
        s = math.sqrt(n1 * n2 / 12 * ((n + 1) - float((ties ** 3 - ties).sum()) / (n * (n - 1))))
        if s == 0:  # every value equal
            return u1, 1.0
        z = (u - n1 * n2 / 2 - 0.5) / s
        p = 2 * 0.5 * math.erfc(z / math.sqrt(2))
    else:
        p = 2 * _u_exact_sf(u, n1, n2)
    return u1, min(max(p, 0.0), 1.0)


def mwu_min_p(n1: int, n2: int) -> float:
    """The smallest two-sided p-value Mann-Whitney U can give for samples of n1 and n2 (no ties):
    2 / C(n1 + n2, n1). Below `level` only with enough samples (asv's rule for when to use it)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    return min(1.0, 2.0 / math.comb(n1 + n2, n1))


def grouped_bootstrap_ci(groups, stat=np.median, confidence: float = CONFIDENCE,
                         resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Bootstrap CI of `stat` over samples that come in groups (the steps of each repeat): each
    resample draws the groups with replacement, then the samples within each drawn group, so the
    interval includes the repeat-to-repeat spread, not only the step-to-step one. One group is
    the plain bootstrap."""
    groups = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not groups:
        return (float("nan"), float("nan"))
    if len(groups) == 1:
        return bootstrap_ci(groups[0], stat, confidence, resamples, seed)
    rng = np.random.default_rng(seed)
    sizes = np.array([g.size for g in groups])
    padded = np.full((len(groups), sizes.max()), np.nan)
    for i, g in enumerate(groups):
        padded[i, :g.size] = g
    picked = rng.integers(0, len(groups), size=(resamples, len(groups)))             # groups drawn
    within = (rng.random((resamples, len(groups), sizes.max())) * sizes[picked][..., None]).astype(int)
    drawn = padded[picked[..., None], within]                                          # (resamples, groups, max size)
    drawn[np.arange(sizes.max()) >= sizes[picked][..., None]] = np.nan                 # a short group draws fewer
    drawn = drawn.reshape(resamples, -1)
    if (sizes == sizes[0]).all():  # no padding drawn
        values = stat(drawn, axis=1)
    elif stat in NAN_AWARE:
        values = NAN_AWARE[stat](drawn, axis=1)
    else:
        values = np.array([stat(v[~np.isnan(v)]) for v in drawn])
    alpha = (1 - confidence) / 2
    return (float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha)))
