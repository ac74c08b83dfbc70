"""Slow drift of one series: a value that creeps (0.2% a commit, 6% over 30) without any step that
stands out of the noise on its own.

Over the newest WINDOW points (each point: the per-repeat values at one commit), on the log of each
point's median:
- **Mann-Kendall** (scipy.stats.kendalltau of the value against the commit order): is there a
  monotone trend at all? Rank-based, so one odd run moves it by one rank, not by its size;
- **Theil-Sen** (scipy.stats.theilslopes): the slope per commit and its interval, the median of the
  pairwise slopes (again robust to one odd run);
- the **floor**, from the repeat-level variance: the change over the window must exceed
  NOISE_FLOOR_FACTOR x the median within-commit robust CV of the repeats, never below
  stats.MIN_NOISE_FLOOR (1%): a trend smaller than what one commit's repeats already scatter is
  nobody's business.

A drift stands when Mann-Kendall's p is below ALPHA, the Theil-Sen interval excludes 0 and the change
over the window exceeds the floor. Whether a series is better told as a drift or as steps is decided
by the caller (changepoints.analyze: the smaller BIC of a line and of the segments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from benchbench.analysis.compare import NOISE_FLOOR_FACTOR
from benchbench.basics import stats
from benchbench.basics.stats import MIN_NOISE_FLOOR

WINDOW = 30        # newest points tested
MIN_POINTS = 8     # fewer: no drift test
ALPHA = 0.01       # Mann-Kendall's level: strict, a drift is reported on every later commit too
CONFIDENCE = 0.95  # Theil-Sen's interval


@dataclass
class Drift:
    start: int             # first point of the window (index into the points given)
    end: int               # one past its last point
    slope: float           # relative change per commit (exp(log slope) - 1)
    slope_ci_low: float
    slope_ci_high: float
    change: float          # over the window: exp(slope x (points - 1)) - 1
    p_value: float         # Mann-Kendall
    floor: float           # the relative change it had to exceed


def window_values(points: list, window: int = WINDOW) -> tuple[list[int], np.ndarray, list[np.ndarray]]:
    """(indices of the non-empty points in the window, log of their medians, their repeat values)."""
    vals = [np.asarray(p, dtype=float) for p in points]
    vals = [v[np.isfinite(v) & (v > 0)] for v in vals]
    keep = [i for i, v in enumerate(vals) if v.size][-window:]
    return keep, np.log([float(np.median(vals[i])) for i in keep]), [vals[i] for i in keep]


def floor(repeats: list[np.ndarray]) -> float:
    """NOISE_FLOOR_FACTOR x the median within-commit robust CV of the repeats, never below MIN_NOISE_FLOOR."""
    cvs = [c for c in (stats.robust_cv(v) for v in repeats) if c == c]
    return max(MIN_NOISE_FLOOR, NOISE_FLOOR_FACTOR * float(np.median(cvs)) if cvs else 0.0)


def test(points: list, window: int = WINDOW, alpha: float = ALPHA) -> Drift | None:
    """The drift of the newest `window` points, or None when none stands (or fewer than MIN_POINTS)."""
    keep, y, repeats = window_values(points, window)
    if len(keep) < MIN_POINTS or np.ptp(y) == 0:
        return None
    x = np.arange(y.size, dtype=float)
    tau = sps.kendalltau(x, y)
    slope, _, lo, hi = sps.theilslopes(y, x, alpha=CONFIDENCE)
    change = math.expm1(slope * (y.size - 1))
    f = floor(repeats)
    if not (tau.pvalue < alpha and (lo > 0 or hi < 0) and abs(change) > f):
        return None
    return Drift(start=keep[0], end=keep[-1] + 1, slope=math.expm1(slope), slope_ci_low=math.expm1(lo),
                 slope_ci_high=math.expm1(hi), change=change, p_value=float(tau.pvalue), floor=f)


def line_bic(y: np.ndarray) -> float:
    """BIC of the Theil-Sen line through y (2 parameters), for the choice between a drift and steps."""
    x = np.arange(y.size, dtype=float)
    slope, intercept, _, _ = sps.theilslopes(y, x)
    return bic(float(np.abs(y - intercept - slope * x).sum()), y.size, 2)


def bic(sae: float, n: int, params: int) -> float:
    """BIC of a fit with Laplace errors from its sum of absolute residuals: robust, so one odd run (or a
    run whose repeats were mostly slow) does not decide between a line and steps (a tiny floor keeps a
    perfect fit finite)."""
    return 2 * n * math.log(max(sae, 1e-12) / n) + params * math.log(n)
