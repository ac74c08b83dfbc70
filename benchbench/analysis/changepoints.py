"""Change points of one series: the commits where a config's value stepped, and by how much.

A series is a list of points in commit order, each the per-repeat values measured at one commit
(one run's repeats, or the pooled repeats of every run there). Two stages:

1. **Candidates** (PELT with the least-squares cost, on the log of each point's median; ruptures'
   KernelCPD with the linear kernel, which is that cost, in its C implementation): the
   penalty is PENALTY_FACTOR x sigma^2 x ln(n), sigma the series' robust point-to-point noise
   (1.4826 x MAD of successive differences / sqrt 2: a step moves one difference, not the MAD),
   never below SIGMA_FLOOR; segments hold at least MIN_SEGMENT points. The penalty is lenient on
   purpose: stage 2 decides.
2. **Verdicts**, with the statistics compare and gate use, on the repeats (the unit of
   replication): for each candidate, the pooled per-repeat values of the segment before and the
   segment after give the ratio after/before with a robust t interval (stats.ratio_interval). A
   candidate stays only when that interval excludes 1 AND the step (the slower side over the
   faster, minus 1: a 4x slowdown is +300% in throughput as in time) exceeds the series' own
   noise floor: NOISE_FLOOR_FACTOR x the larger robust CV of the two segments' repeats, never below
   stats.MIN_NOISE_FLOOR (1%). Failing candidates are dropped one at a time, weakest first, and the
   rest re-judged against the merged segments, until every one stands.

So one odd run (an outlier) is no change point: a segment holding it is too spread to pass its floor,
and two segments joined around it do not differ. A step needs MIN_SEGMENT commits on each side to be
seen at all: the newest commit alone is the gate's business (gate --history), not a change point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from benchbench.analysis import drift as drift_test
from benchbench.analysis import series_modes
from benchbench.analysis.compare import NOISE_FLOOR_FACTOR
from benchbench.basics import stats
from benchbench.basics.stats import MIN_NOISE_FLOOR

MIN_SEGMENT = 3        # commits on each side of a change point: two odd runs side by side are no step
PENALTY_FACTOR = 3.0   # x sigma^2 x ln(n): lenient (stage 2 decides), but fewer candidates are fewer chances to err
SIGMA_FLOOR = 0.002    # 0.2% in log units: a series of identical values still has a finite penalty
CONFIDENCE = 0.99     # per candidate: PELT proposes several in 30 commits; a false one must stay rare
RUN_FLOOR_FACTOR = 3.0  # x the run-to-run robust spread about the segments' medians, as compare's floor
ODD_HALF_WINDOW = 3     # an odd run: off its neighbours' median (3 either side) by more than
ODD_SIGMAS = 5.0        # ... 5 x the series' noise and more than 2 x stats.MIN_NOISE_FLOOR


def odd_runs(y: np.ndarray) -> np.ndarray:
    """Which points of a log series are odd runs (a Hampel filter): far off the median of their neighbours.
    A step moves that median with it after a few commits; one odd run, or two side by side, do not."""
    limit = max(ODD_SIGMAS * noise_sigma(y), math.log1p(2 * MIN_NOISE_FLOOR))
    h = ODD_HALF_WINDOW
    local = np.array([np.median(y[max(0, i - h):i + h + 1]) for i in range(y.size)])
    return np.abs(y - local) > limit


@dataclass
class ChangePoint:
    index: int             # the first point of the new segment (the commit that changed it)
    before: float          # median of the pooled repeats of the segment before
    after: float           # ... and after
    ratio: float           # after / before
    ratio_ci_low: float
    ratio_ci_high: float
    floor: float           # the relative change it had to exceed
    segment_before: tuple[int, int]   # [start, end) point indices
    segment_after: tuple[int, int]

    @property
    def change(self) -> float:
        return self.ratio - 1


def noise_sigma(y: np.ndarray) -> float:
    """Robust point-to-point noise of a log series (a step moves one difference, not their MAD)."""
    d = np.diff(y)
    if d.size == 0:
        return SIGMA_FLOOR
    return max(SIGMA_FLOOR, float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2)))


def candidates(y: np.ndarray, min_segment: int = MIN_SEGMENT, penalty_factor: float = PENALTY_FACTOR) -> list[int]:
    """PELT's breakpoints of y (indices where a new segment starts), without the end."""
    n = y.size
    if n < 2 * min_segment:
        return []
    import ruptures

    pen = penalty_factor * noise_sigma(y) ** 2 * math.log(n)
    # the linear kernel's cost is the l2 cost: the same breakpoints as Pelt(model="l2"), in C (1,000 points:
    # milliseconds instead of seconds)
    bkps = ruptures.KernelCPD(kernel="linear", min_size=min_segment, jump=1).fit(y.reshape(-1, 1)).predict(pen=pen)
    return [int(b) for b in bkps if 0 < b < n]


def judge(before: np.ndarray, after: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, bool]:
    """(ratio after/before, ci low, ci high, floor, stands?) from two segments' pooled repeat values."""
    ratio, lo, hi = stats.ratio_interval(before, after, confidence)
    cvs = [stats.robust_cv(v) for v in (before, after)]
    floor = max(MIN_NOISE_FLOOR, NOISE_FLOOR_FACTOR * max((c for c in cvs if c == c), default=0.0))
    med_ratio = float(np.median(after) / np.median(before)) if np.median(before) else math.nan
    # the step as the slower side over the faster, so a 4x slowdown is +300% in throughput as in step time
    # (-75% would cap every drop below 100% and let a very noisy floor swallow any of them)
    step = max(med_ratio, 1 / med_ratio) - 1 if med_ratio > 0 else math.nan
    stands = bool(lo == lo and (lo > 1 or hi < 1) and step > floor)
    return med_ratio, lo, hi, floor, stands


def judge_points(before: list, after: list, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, bool]:
    """judge() with the commit as the unit, so the run-to-run spread is in the verdict (the pooled repeats
    of a few runs would not show it): the interval is a t interval on the log of each commit's median,
    its scale the robust spread of the commits about their own segment's median pooled over both
    segments (three commits alone can sit close together by chance); the floor is the larger of
    NOISE_FLOOR_FACTOR x the median within-commit robust CV of the repeats, RUN_FLOOR_FACTOR x that
    pooled spread, and MIN_NOISE_FLOOR."""
    mb = np.log([np.median(v) for v in before])
    ma = np.log([np.median(v) for v in after])
    med_ratio = float(np.exp(np.median(ma) - np.median(mb)))
    cvs = [c for c in (stats.robust_cv(v) for v in (*before, *after)) if c == c]
    dev = np.concatenate([mb - np.median(mb), ma - np.median(ma)])
    n = dev.size
    spread = 1.4826 * float(np.median(np.abs(dev))) * n / max(n - 0.8, 1)
    floor = max(MIN_NOISE_FLOOR, NOISE_FLOOR_FACTOR * float(np.median(cvs)) if cvs else 0.0, RUN_FLOOR_FACTOR * spread)
    if mb.size < 2 or ma.size < 2:
        return med_ratio, math.nan, math.nan, floor, False
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 2)) * 1.253 * spread * math.sqrt(1 / mb.size + 1 / ma.size)
    d = math.log(med_ratio)
    lo, hi = math.exp(d - half), math.exp(d + half)
    step = max(med_ratio, 1 / med_ratio) - 1
    return med_ratio, lo, hi, floor, bool((lo > 1 or hi < 1) and step > floor)


def detect(points: list, confidence: float = CONFIDENCE, min_segment: int = MIN_SEGMENT,
           penalty_factor: float = PENALTY_FACTOR, propose=None) -> list[ChangePoint]:
    """Change points of a series: `points` in commit order, each an array of per-repeat values (> 0).
    `propose(y, min_segment)` gives the candidates (default: PELT, candidates())."""
    values = [np.asarray(p, dtype=float) for p in points]
    values = [v[np.isfinite(v) & (v > 0)] for v in values]
    keep = [i for i, v in enumerate(values) if v.size]
    if len(keep) >= 2 * min_segment:   # odd runs are left out: never a change point, nor part of a segment's level
        odd = odd_runs(np.log([float(np.median(values[i])) for i in keep]))
        keep = [i for i, o in zip(keep, odd) if not o]
    if len(keep) < 2 * min_segment:
        return []
    vals = [values[i] for i in keep]
    y = np.log([float(np.median(v)) for v in vals])
    bkps = propose(y, min_segment) if propose else candidates(y, min_segment, penalty_factor)
    while True:
        edges = [0, *bkps, len(vals)]
        pooled = [np.concatenate(vals[a:b]) for a, b in zip(edges, edges[1:])]
        judged = [judge_points(vals[edges[i]:edges[i + 1]], vals[edges[i + 1]:edges[i + 2]], confidence)
                  for i in range(len(bkps))]
        weak = [(abs(math.log(r)) / f if r > 0 and r == r else 0.0, i) for i, (r, _, _, f, ok) in enumerate(judged) if not ok]
        if not weak:
            break
        bkps.pop(min(weak)[1])
    out = []
    for i, (r, lo, hi, f, _) in enumerate(judged):
        out.append(ChangePoint(index=keep[bkps[i]], before=float(np.median(pooled[i])), after=float(np.median(pooled[i + 1])),
                               ratio=r, ratio_ci_low=lo, ratio_ci_high=hi, floor=f,
                               segment_before=(keep[edges[i]], keep[edges[i + 1] - 1] + 1),
                               segment_after=(keep[edges[i + 1]], keep[edges[i + 2] - 1] + 1)))
    return out


@dataclass
class Shape:
    """What a series did: its change points, or a drift, or two modes (then neither of the others)."""
    changes: list[ChangePoint]
    drift: drift_test.Drift | None = None
    two_modes: series_modes.TwoModes | None = None


def analyze(points: list, confidence: float = CONFIDENCE, propose=None) -> Shape:
    """Two modes first (then no change point and no drift: the jumps are the machine's, not a commit's);
    else the change points and the drift test; when both stand, the one with the smaller BIC on the
    drift's window, with robust fits (the Theil-Sen line: 2 parameters; the segments' medians: a level per
    segment and a place per change; drift.bic)."""
    modes = series_modes.detect(points)
    if modes is not None:
        return Shape(changes=[], two_modes=modes)
    found = detect(points, confidence, propose=propose)
    d = drift_test.test(points)
    if d is None or not found:
        return Shape(changes=found, drift=d)
    keep, y, _ = drift_test.window_values(points)
    inside = [keep.index(c.index) for c in found if c.index in keep[1:]]
    edges = [0, *inside, y.size]
    sae = sum(float(np.abs(y[a:b] - np.median(y[a:b])).sum()) for a, b in zip(edges, edges[1:]))
    steps_bic = drift_test.bic(sae, y.size, 2 * len(inside) + 1)
    if drift_test.line_bic(y) < steps_bic:
        return Shape(changes=[c for c in found if c.index < d.start], drift=d)
    return Shape(changes=found)
