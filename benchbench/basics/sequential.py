"""`repeats: auto` as a sequential test: add repeats until the config is told apart from its reference
(the suite's baseline config, or the same config in a finished run named by `run --against RUN`), or
shown the same within the margin, or the cap is reached.

Each time a config has n >= MIN_REPEATS repeats (a look), two tests on the log of the per-repeat values:
- **differs**: Welch's t test of config against reference, and the change beyond the margin;
- **same**: equivalence, two one-sided Welch t tests (TOST) against -margin and +margin.

Looking again and again at a growing sample would spend the error rate many times over; each look
gets only its share of ALPHA from an O'Brien-Fleming-type spending function (Lan-DeMets:
alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)), t = n / max_repeats). The shares add up to ALPHA, so by
the union bound the chance of a false "differs" over all looks, and of a false "same", each stays
below ALPHA. Early looks get almost nothing (a verdict at 3 repeats needs overwhelming evidence); the
last look gets most. At max_repeats the config stops `undecided`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from benchbench.basics.stats import MIN_NOISE_FLOOR

ALPHA = 0.05
MIN_REPEATS = 3
MARGIN = MIN_NOISE_FLOOR   # a change below 1% is "the same", as compare's floor


@dataclass(frozen=True)
class Decision:
    stop: bool
    outcome: str          # "differs", "same", "undecided" (the cap), "" (go on)
    repeats: int          # the config's repeats at this look
    alpha: float          # this look's share of ALPHA
    ratio: float          # median(config) / median(reference)


def spent(n: int, n_max: int, alpha: float = ALPHA) -> float:
    """The error rate spent by the look at n of n_max repeats (O'Brien-Fleming-type, Lan-DeMets)."""
    if n < MIN_REPEATS:
        return 0.0
    t = min(1.0, n / n_max)
    return float(2 - 2 * sps.norm.cdf(sps.norm.ppf(1 - alpha / 2) / math.sqrt(t)))


def look_alpha(n: int, n_max: int, alpha: float = ALPHA) -> float:
    """This look's share: what the look at n spends beyond the look before it."""
    return spent(n, n_max, alpha) - spent(n - 1, n_max, alpha)


def _welch_p(x: np.ndarray, y: np.ndarray, shift: float, alternative: str) -> float:
    """p of Welch's t test of mean(y) - mean(x) against `shift` (identical values: 0 or 1, no nan)."""
    d = float(y.mean() - x.mean()) - shift
    se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    if se == 0:
        hit = {"two-sided": d != 0, "greater": d > 0, "less": d < 0}[alternative]
        return 0.0 if hit else 1.0
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    df = (vx + vy) ** 2 / (vx ** 2 / (x.size - 1) + vy ** 2 / (y.size - 1))
    t = d / se
    if alternative == "two-sided":
        return float(2 * sps.t.sf(abs(t), df))
    return float(sps.t.sf(t, df) if alternative == "greater" else sps.t.cdf(t, df))


def decide(reference, values, max_repeats: int, alpha: float = ALPHA, margin: float = MARGIN) -> Decision:
    """Whether a config with per-repeat `values` (> 0) stops, against the reference's per-repeat values."""
    x = np.log(np.asarray([v for v in reference if v > 0 and np.isfinite(v)], dtype=float))
    y = np.log(np.asarray([v for v in values if v > 0 and np.isfinite(v)], dtype=float))
    n = int(y.size)
    a = look_alpha(n, max_repeats, alpha)
    ratio = float(np.exp(np.median(y) - np.median(x))) if x.size and y.size else math.nan
    if n >= MIN_REPEATS and x.size >= MIN_REPEATS:
        lm = math.log1p(margin)
        if _welch_p(x, y, 0.0, "two-sided") < a and abs(ratio - 1) > margin:
            return Decision(True, "differs", n, a, ratio)
        if max(_welch_p(x, y, -lm, "greater"), _welch_p(x, y, lm, "less")) < a:
            return Decision(True, "same", n, a, ratio)
    if n >= max_repeats:
        return Decision(True, "undecided", n, a, ratio)
    return Decision(False, "", n, a, ratio)
