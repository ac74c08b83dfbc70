"""When is a measurement sure enough to stop? The rules behind `measured_steps: auto` (the worker,
between blocks of steps) and `repeats: auto` (the sweep, between rounds of repeats).

Steps: the 95% interval of the median step time from order statistics (distribution-free: the
interval between the k-th and (n-k+1)-th smallest steps, k from the binomial(n, 1/2) quantile), its
half-width relative to the median. Repeats: the same interval over the repeats' own values (each
repeat one sample, as every verdict treats them); with fewer than 3 repeats there is no interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def median_interval(samples) -> tuple[float, float, float]:
    """(median, low, high): a distribution-free 95% interval of the median (nan bounds when n < 6)."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    med = float(np.median(x))
    k = int(stats.binom.ppf((1 - CONFIDENCE) / 2, n, 0.5))  # order statistics k+1 .. n-k hold the median
    if k < 1:
        return med, float("nan"), float("nan")
    return med, float(x[k - 1]), float(x[n - k])


def relative_halfwidth(samples) -> float:
    med, lo, hi = median_interval(samples)
    return (hi - lo) / 2 / med if med > 0 and np.isfinite(lo) else float("inf")


@dataclass(frozen=True)
class StepRule:
    """measured_steps: auto. Stop after a block once the median's interval is within target_halfwidth
    (relative) of it, with at least min_steps; or at max_steps or max_measure_s, whichever comes first."""
    min_steps: int = 10
    max_steps: int = 200
    max_measure_s: float = 60.0
    target_halfwidth: float = 0.005
    block: int = 10

    def next_block(self, n_done: int) -> int:
        """Steps in the next block (measured without a host synchronization inside it); 0 = stop."""
        return max(0, min(self.block if n_done >= self.min_steps else self.min_steps - n_done,
                          self.max_steps - n_done))

    def verdict(self, step_times) -> tuple[bool, str]:
        """(stop?, why): 'target met', 'max_steps', 'max_measure_s', or '' to go on."""
        n = len(step_times)
        if n >= self.min_steps and relative_halfwidth(step_times) <= self.target_halfwidth:
            return True, "target met"
        if n >= self.max_steps:
            return True, "max_steps"
        if float(np.sum(step_times)) >= self.max_measure_s:
            return True, "max_measure_s"
        return False, ""


def repeats_sure(values, target_halfwidth: float, min_repeats: int = 3) -> bool:
    """repeats: auto: do the repeats' values (one per repeat) pin the median within target_halfwidth?
    Below 6 repeats the order-statistic interval does not exist: then the spread of the repeats
    (max-min over 2, relative) must be within the target instead."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size < min_repeats:
        return False
    if v.size < 6:
        return bool((v.max() - v.min()) / 2 / np.median(v) <= target_halfwidth)
    return bool(relative_halfwidth(v) <= target_halfwidth)


@dataclass(frozen=True)
class WarmupRule:
    """warmup_steps: auto. Warm up until step times settle: the last `window` steps (never the first, which
    compiles, autotunes and grows the allocator) within `tolerance` of their median, max minus min; at
    least min_steps, at most max_steps or max_s seconds."""

    min_steps: int = 3
    max_steps: int = 30
    window: int = 2
    tolerance: float = 0.05
    max_s: float = 120.0

    def spread(self, step_times_s) -> float | None:
        """(max - min) / median of the last `window` steps after the first; None before there are enough."""
        last = list(step_times_s[1:])[-self.window:]
        if len(last) < self.window:
            return None
        med = float(np.median(last))
        return (max(last) - min(last)) / med if med > 0 else float("inf")

    def verdict(self, step_times_s) -> tuple[bool, str]:
        """(stop?, why): settled, max_steps, max_s, or continue."""
        n = len(step_times_s)
        spread = self.spread(step_times_s)
        if n >= self.min_steps and spread is not None and spread <= self.tolerance:
            return True, "settled"
        if n >= self.max_steps:
            return True, "max_steps"
        if sum(step_times_s) >= self.max_s and n >= self.min_steps:
            return True, "max_s"
        return False, "continue"
