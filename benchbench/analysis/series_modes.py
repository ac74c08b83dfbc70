"""Two modes in one series: a machine whose processes land in one of two states (3% apart, say),
commit after commit, at random. Its values jump between two levels; a change-point detector would call
each jump a regression or an improvement at an innocent commit. Such a series is flagged `two modes`
and gets no change points (changepoints.analyze).

On the log of each point's median (the per-repeat values at one commit):
1. the best split into a low and a high group (one-dimensional 2-means: the split of the sorted values
   with the smallest within-group sum of squares), each group holding at least MIN_SHARE of the points
   and at least MIN_GROUP points;
2. the groups are **separated**: their means differ by at least SEPARATION x the within-group standard
   deviation (Ashman's D; the best 2-means split of 30 normal values reaches about 3, two levels 3%
   apart with 0.3% noise about 9) and by at least stats.MIN_NOISE_FLOOR (1%);
3. the groups **alternate in time**: a Wald-Wolfowitz runs test of the group labels along the commits
   does not find them clustered (z >= MIN_RUNS_Z), and they change group at least MIN_SWITCHES times.
   A step is two separated groups too, but in two long runs; a temporary regression, three.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchbench.basics.stats import MIN_NOISE_FLOOR

MIN_POINTS = 8
MIN_GROUP = 3
MIN_SHARE = 0.2
SEPARATION = 4.0
MIN_SWITCHES = 3     # a step changes group once, a temporary regression twice (the runs test is weak on few points)
MIN_RUNS_Z = -2.33   # one-sided 1%: fewer runs than this is a step (or steps), not two modes


@dataclass
class TwoModes:
    low: float        # median of the points of the low mode (the metric's own units)
    high: float
    gap: float        # high / low - 1
    low_points: int
    high_points: int
    switches: int     # changes of mode along the commits


def runs_z(labels: np.ndarray) -> float:
    """Wald-Wolfowitz runs test: (runs - expected) / sd for labels in random order. A step or a temporary
    regression puts the labels in a few long runs (z far below 0); two modes at random, about 0."""
    n1, n = int(labels.sum()), labels.size
    n2 = n - n1
    runs = 1 + int(np.count_nonzero(labels[1:] != labels[:-1]))
    e = 1 + 2 * n1 * n2 / n
    v = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n * n * (n - 1))
    return (runs - e) / math.sqrt(v) if v > 0 else -math.inf


def split(y: np.ndarray, min_group: int) -> tuple[int, float] | None:
    """(k, within-group SSE) of the best split of sorted y into y[:k] and y[k:], or None."""
    s = np.sort(y)
    n = s.size
    if n < 2 * min_group:
        return None
    c1, c2 = np.cumsum(s), np.cumsum(s ** 2)
    k = np.arange(min_group, n - min_group + 1)
    left = c2[k - 1] - c1[k - 1] ** 2 / k
    right = (c2[-1] - c2[k - 1]) - (c1[-1] - c1[k - 1]) ** 2 / (n - k)
    sse = left + right
    best = int(np.argmin(sse))
    return int(k[best]), float(sse[best])


def detect(points: list) -> TwoModes | None:
    """The two modes of a series (each point an array of per-repeat values), or None."""
    vals = [np.asarray(p, dtype=float) for p in points]
    meds = np.array([float(np.median(v[np.isfinite(v) & (v > 0)])) for v in vals if np.any(np.isfinite(v) & (v > 0))])
    if meds.size < MIN_POINTS:
        return None
    y = np.log(meds)
    best = split(y, max(MIN_GROUP, math.ceil(MIN_SHARE * y.size)))
    if best is None:
        return None
    k, sse = best
    s = np.sort(y)
    lo, hi = s[:k], s[k:]
    sd = math.sqrt(sse / (y.size - 2)) if sse > 0 else 0.0
    gap = float(hi.mean() - lo.mean())
    if gap < math.log1p(MIN_NOISE_FLOOR) or (sd > 0 and gap < SEPARATION * sd):
        return None
    labels = y >= s[k]
    switches = int(np.count_nonzero(labels[1:] != labels[:-1]))
    if switches < MIN_SWITCHES or runs_z(labels) < MIN_RUNS_Z:
        return None
    return TwoModes(low=float(np.exp(np.median(lo))), high=float(np.exp(np.median(hi))),
                    gap=float(np.exp(np.median(hi) - np.median(lo)) - 1), low_points=int(lo.size),
                    high_points=int(hi.size), switches=switches)
