"""What one config's repeats support: a change with its interval and p-value, and then a verdict,
`same` (within ±x%), `undecided` (a change up to y% could hide; N more repeats would settle it) or
`two modes` (add repeats).

The unit is the repeat; the scale is the log of each repeat's value, so a change is a ratio.

- Location: the median of each side's log values: one odd repeat (an H200 showed 1 of 12 repeats 12%
  slow) neither moves it nor makes a verdict. A side whose sorted values jump by more than
  GAP_SIGMAS x the pooled spread is split: when its better cluster (higher throughput) is the
  majority, the slower cluster is dropped (odd processes land in slower states, not faster ones);
  when the better cluster is the minority, the side is `two modes`.
- Spread: each side's robust SD (MAD with Croux & Rousseeuw's small-sample factor), pooled over the
  two sides, then shrunk toward the spread of every config of the comparison (`Prior.sd`: from
  each side's closest pair of repeats, robust to odd repeats and modes) with Prior.df degrees of freedom, as
  limma's moderated t does. Three repeats that happen to agree closely borrow the others' spread and
  cannot make a verdict alone; a config noisier than the rest keeps most of its own spread.
- Between runs: two separate runs drift apart by more than the repeats inside each show. The
  standard error adds 2 x `between_run_sd`² (from the machine's history when given, else
  DEFAULT_BETWEEN_RUN_SD, fitted from committed GPU rows); configs of one run compared with each
  other pass 0.
- Test: t = change / SE with PRIOR_DF + the config's own degrees of freedom; the two-sided p-value
  is adjusted over the whole family of configs x metrics (family.py, Holm) before any verdict.
- Equivalence (TOST at the floor): when the (1 - 2 level) interval of the change lies inside ±floor,
  the config is `same` within ±x% (x: that interval's farther end).
- Two modes: when MIN_SPLIT_SIDES sides are split and at least TWO_MODE_SHARE of all repeats sit
  on either side of their side's split (odd repeats are rare: ~4% on the committed GPU rows), the
  machine's processes land in two states, and a change that does not clearly
  exceed 1.5 x the gap between them is `two modes` (add repeats), as is a side whose better
  cluster is the minority.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

PRIOR_DF = 4               # least weight of the pooled spread, in degrees of freedom (limma's are typically 3-5)
MAX_PRIOR_DF = 20          # ... growing with the configs pooled (a quarter of their degrees of freedom)
MEDIAN_EFFICIENCY = 1.253  # SE of a median / SE of a mean for normal data (sqrt(pi / 2))
# Fitted by bench/calibration/fit.py from the committed GPU rows (results/examples/calibration-cpu/fit.json):
# identical sweeps' config values drift apart between runs by more than their repeats show; rounded up.
DEFAULT_BETWEEN_RUN_SD = 0.003
GAP_SIGMAS = 5.0           # a jump this many pooled SDs between a side's sorted repeats splits it
FIRST_PASS_SIGMAS = 2.0    # the looser split that keeps a second mode out of the pooled spread
MIN_GAP = 0.005            # ... and never below 0.5% (a quiet GPU's repeats agree within 0.1%)
TWO_MODE_SHARE = 0.25      # two modes: a quarter of the repeats in the other state (odd repeats: ~4% of them)
MIN_SPLIT_SIDES = 3
MAX_SUGGESTED = 100        # more repeats than this is "repeats alone will not settle it"
_SMALL = {2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129, 9: 1.107}


@dataclass(frozen=True)
class Prior:
    """What every config of one comparison shares: the pooled log spread between repeats, the gap of
    the machine's two modes (nan: none seen), and the between-run SD the intervals carry."""
    sd: float
    split_fraction: float
    mode_gap: float
    between_run_sd: float
    df: int = 4  # weight of the pooled spread: PRIOR_DF, more when many configs pool (up to MAX_PRIOR_DF)

    @property
    def two_modal(self) -> bool:
        return self.mode_gap == self.mode_gap


def logs(values) -> np.ndarray:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x) and x > 0], dtype=float)
    return np.log(v)


def robust_sd(v: np.ndarray) -> float:
    """MAD as a normal SD with the small-sample factor (0 below 2 values)."""
    if v.size < 2:
        return 0.0
    return _SMALL.get(v.size, v.size / (v.size - 0.8)) * 1.4826 * float(np.median(np.abs(v - np.median(v))))


def split(v: np.ndarray, sd: float, sigmas: float = 0.0) -> tuple[float, int]:
    """(gap, index of the last value below it in sorted order) when the largest jump between sorted
    values splits the side, else (nan, -1)."""
    if v.size < 3:
        return math.nan, -1
    s = np.sort(v)
    gaps = np.diff(s)
    k = int(np.argmax(gaps))
    g = float(gaps[k])
    if g <= max(MIN_GAP, (sigmas or GAP_SIGMAS) * sd):
        return math.nan, -1
    return g, k


def kept(v: np.ndarray, sd: float, up: bool) -> tuple[np.ndarray, float, bool]:
    """(values to judge, gap, two modes?) of one side. A split side whose better cluster (higher
    throughput, shorter time) is the majority keeps that cluster: an odd process lands in a slower
    state, never a faster one. When the better cluster is the minority the side is two modes."""
    g, k = split(v, sd)
    if g != g:
        return v, math.nan, False
    s = np.sort(v)
    low, high = s[:k + 1], s[k + 1:]
    better, worse = (high, low) if up else (low, high)
    if better.size >= worse.size:
        return better, g, False
    return v, g, True


@functools.cache
def _spacing(n: int, kind: str = "closest") -> float:
    """The median closest-pair distance (or range) of n standard normal values (a seeded simulation)."""
    x = np.sort(np.random.default_rng(0).standard_normal((20000, n)), axis=1)
    return float(np.median(np.diff(x, axis=1).min(axis=1) if kind == "closest" else x[:, -1] - x[:, 0]))


def prior(sides: list[np.ndarray], between_run_sd: float | None = None) -> Prior:
    """The comparison's Prior from the log values of every side (each config's A and B). The pooled SD
    is the median over sides of each side's closest pair of repeats, scaled to a normal SD for its
    number of repeats: odd repeats and a second mode (never all of a side) do not inflate it."""
    closest = [float(np.diff(np.sort(v)).min()) / _spacing(v.size) for v in sides if v.size >= 2]
    sd = float(np.median(closest)) if closest else 0.0
    # second pass: split at a looser threshold, then the median over the clusters of their range (a second
    # mode makes every split side's closest pair a pair of two, which the first pass overestimates)
    for sigmas in (FIRST_PASS_SIGMAS, FIRST_PASS_SIGMAS, GAP_SIGMAS):  # looser splits, then the real one
        ranges = []                                                       # (which normal data rarely has)
        for v in sides:
            g, k = split(v, sd, sigmas=sigmas)
            for c in ((np.sort(v)[:k + 1], np.sort(v)[k + 1:]) if g == g else (v,)):
                if c.size >= 2:
                    ranges.append(float(np.ptp(c)) / _spacing(c.size, "range"))
        sd = float(np.median(ranges)) if ranges else sd
    judged = [v for v in sides if v.size >= 3]
    gaps, low = [], 0
    for v in judged:
        g, k = split(v, sd)
        if g == g:
            gaps.append(g)
            low += k + 1  # repeats below the split (the slower state for throughput, the faster for times)
    total = sum(v.size for v in judged)
    share = low / total if total else 0.0
    modal = len(gaps) >= MIN_SPLIT_SIDES and min(share, 1 - share) >= TWO_MODE_SHARE
    df = sum(max(0, v.size - 1) for v in sides)
    return Prior(sd=sd, split_fraction=len(gaps) / len(judged) if judged else 0.0,
                 mode_gap=float(np.median(gaps)) if modal else math.nan,
                 between_run_sd=DEFAULT_BETWEEN_RUN_SD if between_run_sd is None else float(between_run_sd),
                 df=int(min(MAX_PRIOR_DF, max(PRIOR_DF, df // 4))))


def test(a_values, b_values, pri: Prior, level: float = 0.05, up: bool = True) -> dict:
    """The change b/a of one config: log_change, se, dof, p_value, ratio_ci_low/high (1 - level), the
    shrunk spread (spread_sd) and `modes` (why it is two modes, or ""). `up`: higher is better."""
    (x, gx, mx), (y, gy, my) = (kept(logs(v), pri.sd, up) for v in (a_values, b_values))
    na, nb = x.size, y.size
    d = float(np.median(y) - np.median(x))
    own_df = na + nb - 2
    own = ((na - 1) * robust_sd(x) ** 2 + (nb - 1) * robust_sd(y) ** 2) / own_df if own_df > 0 else 0.0
    w = pri.df if pri.sd > 0 else 0
    dof = w + own_df
    s2 = (w * pri.sd ** 2 + own_df * own) / dof if dof > 0 else 0.0
    se = math.sqrt(MEDIAN_EFFICIENCY ** 2 * s2 * (1 / na + 1 / nb) + 2 * pri.between_run_sd ** 2)
    if se == 0 or dof == 0:
        p = 0.0 if d else 1.0
        lo = hi = d
    else:
        p = float(2 * sps.t.sf(abs(d) / se, dof))
        half = float(sps.t.ppf(1 - level / 2, dof)) * se
        lo, hi = d - half, d + half
    modes, gap = "", math.nan
    for side, g, m in (("A", gx, mx), ("B", gy, my)):
        if m:
            modes, gap = f"most of {side}'s repeats sit {math.expm1(g):.1%} below its best", g
    if not modes and pri.two_modal:
        gap = pri.mode_gap
        modes = f"{pri.split_fraction:.0%} of the sides' repeats split, about {math.expm1(gap):.1%} apart"
    if modes and abs(d) - (hi - d) > 1.5 * gap:  # clearly beyond what a switch of mode explains
        modes = ""
    return {"log_change": d, "se": se, "dof": dof, "p_value": p, "ratio_ci_low": math.exp(lo),
            "ratio_ci_high": math.exp(hi), "spread_sd": math.sqrt(s2), "between_run_sd": pri.between_run_sd,
            "modes": modes}


def between_run_sd_from(runs) -> float:
    """The between-run SD of one config on one machine from its history: `runs` is one array of repeat
    values per run. The variance of the runs' log medians, less what their repeats alone explain
    (MEDIAN_EFFICIENCY² x the pooled spread / repeats); nan below 3 runs of 2+ repeats."""
    sides = [logs(v) for v in runs]
    sides = [v for v in sides if v.size >= 2]
    if len(sides) < 3:
        return math.nan
    medians = np.array([np.median(v) for v in sides])
    within = np.mean([MEDIAN_EFFICIENCY ** 2 * robust_sd(v) ** 2 / v.size for v in sides])
    return math.sqrt(max(0.0, float(np.var(medians, ddof=1)) - float(within)))


def repeats_to_settle(r, level: float) -> int | None:
    """Repeats per side to add before the interval either shows the change beyond the floor or holds it
    within ±floor; None when repeats alone cannot (the runs' drift is larger) or it takes > MAX_SUGGESTED."""
    n = min(int(r["a_n"]), int(r["b_n"]))
    d, floor = abs(r["log_change"]), math.log1p(r["floor"])
    t = float(sps.norm.ppf(1 - level))
    target = abs(floor - d) / t
    room = target ** 2 - 2 * r["between_run_sd"] ** 2
    if room <= 0:
        return None
    need = math.ceil(2 * MEDIAN_EFFICIENCY ** 2 * r["spread_sd"] ** 2 / room)
    more = max(1, need - n)
    return more if more <= MAX_SUGGESTED else None


def decide(r, p_adjusted: float, level: float, up: bool, family: int) -> dict:
    """verdict, note, worse of one tested config row, given its family-adjusted p-value."""
    d, se, dof, floor = r["log_change"], r["se"], r["dof"], r["floor"]
    change = math.expm1(d)
    adj = f"p {r['p_value']:.2g}, Holm-adjusted {p_adjusted:.2g} over {family} tests"
    if r["modes"]:
        return {"verdict": "two modes", "worse": False, "note": f"add repeats: {r['modes']}"}
    if p_adjusted < level and abs(change) > floor:
        better = (change > 0) == up
        return {"verdict": "faster" if better else "slower", "worse": not better, "note": ""}
    if se > 0 and dof > 0:
        t = float(sps.t.ppf(1 - level, dof))
        lo, hi = math.expm1(d - t * se), math.expm1(d + t * se)
    else:
        lo = hi = change
    x = max(abs(lo), abs(hi))
    if x < floor:
        return {"verdict": "same", "worse": False,
                "note": f"within ±{x:.1%} ({1 - 2 * level:.0%} interval inside the ±{floor:.1%} floor)"}
    hide = max(abs(r["ratio_ci_low"] - 1), abs(r["ratio_ci_high"] - 1))
    more = repeats_to_settle(r, level)
    how = (f"{more} more repeat{'s' if more != 1 else ''} a side would settle it" if more is not None else
           f"repeats alone will not settle it (runs drift ±{r['between_run_sd'] * math.sqrt(2):.1%} apart: "
           "compare within one run or give the machine's history)")
    why = f"; {adj}" if p_adjusted >= level and r["p_value"] < level else ""
    if p_adjusted < level:
        why = f"; significant but within the {floor:.1%} floor"
    return {"verdict": "undecided", "worse": False, "note": f"a change up to {hide:.1%} could hide here; {how}{why}"}
