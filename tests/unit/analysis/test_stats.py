"""stats.summarize against numbers computed by hand, the bootstrap CI, and small samples."""

import math

import pytest

from benchbench.analysis.stats import bootstrap_ci, summarize

KEYS = {"n", "median", "mean", "std", "min", "max", "p05", "p95", "iqr", "cv", "ci_low", "ci_high"}


def test_summarize_hand_computed():
    x = [1.0, 2.0, 3.0, 4.0, 10.0]
    s = summarize(x, "t")
    assert set(s) == {f"t_{k}" for k in KEYS}
    assert s["t_n"] == 5
    assert s["t_median"] == 3.0
    assert s["t_mean"] == 4.0
    # ddof=1: squared deviations 9+4+1+0+36 = 50, /4 = 12.5
    assert s["t_std"] == pytest.approx(math.sqrt(12.5))
    assert s["t_cv"] == pytest.approx(math.sqrt(12.5) / 4.0)
    assert (s["t_min"], s["t_max"]) == (1.0, 10.0)
    # linear interpolation at position q*(n-1): p05 at 0.2 -> 1 + 0.2*(2-1); p95 at 3.8 -> 4 + 0.8*(10-4)
    assert s["t_p05"] == pytest.approx(1.2)
    assert s["t_p95"] == pytest.approx(8.8)
    # q25 at 1.0 -> 2, q75 at 3.0 -> 4
    assert s["t_iqr"] == pytest.approx(2.0)


def test_summarize_even_count_interpolates_the_median():
    s = summarize([4.0, 1.0, 3.0, 2.0], "x")  # order does not matter
    assert s["x_median"] == 2.5
    assert s["x_p05"] == pytest.approx(1.15)  # position 0.15 between 1 and 2
    assert s["x_iqr"] == pytest.approx(3.25 - 1.75)


def test_bootstrap_ci_is_deterministic_and_brackets_the_median():
    x = [0.101, 0.099, 0.103, 0.098, 0.100, 0.250, 0.097, 0.102, 0.100, 0.099, 0.101]
    lo, hi = bootstrap_ci(x)
    assert (lo, hi) == bootstrap_ci(x)
    assert lo <= 0.100 <= hi  # the sample median
    assert lo < hi < 0.250  # the outlier does not drag the median's interval
    s = summarize(x, "t")
    assert (s["t_ci_low"], s["t_ci_high"]) == (lo, hi)


def test_bootstrap_ci_depends_on_seed_and_confidence():
    x = list(range(30))
    assert bootstrap_ci(x, seed=1) != bootstrap_ci(x, seed=2)
    narrow, wide = bootstrap_ci(x, confidence=0.5), bootstrap_ci(x, confidence=0.99)
    assert wide[0] <= narrow[0] and narrow[1] <= wide[1] and wide != narrow


def test_one_sample():
    s = summarize([2.5], "t")
    assert s["t_n"] == 1
    assert s["t_median"] == s["t_min"] == s["t_max"] == s["t_p05"] == s["t_p95"] == 2.5
    assert s["t_std"] == 0.0 and s["t_cv"] == 0.0 and s["t_iqr"] == 0.0
    assert (s["t_ci_low"], s["t_ci_high"]) == (2.5, 2.5)


def test_no_samples_gives_the_same_columns_as_nan():
    s = summarize([], "t")
    assert set(s) == {f"t_{k}" for k in KEYS}
    assert s["t_n"] == 0
    assert all(math.isnan(v) for k, v in s.items() if k != "t_n")
    lo, hi = bootstrap_ci([])
    assert math.isnan(lo) and math.isnan(hi)


def test_cv_of_zero_mean_is_nan():
    assert math.isnan(summarize([-1.0, 1.0], "t")["t_cv"])


# ---------------------------------------------------------------- Mann-Whitney U, grouped bootstrap (compare, gate)

import numpy as np  # noqa: E402

from benchbench.analysis.stats import grouped_bootstrap_ci, mann_whitney_u, mwu_min_p  # noqa: E402


def _mwu_cases():
    rng = np.random.default_rng(7)
    cases = [
        ([1, 2, 3], [4, 5, 6]),                       # exact, fully separated: p = 2/20
        ([1, 2, 3, 4], [5, 6, 7, 8, 9]),              # exact
        ([3.1, 1.2, 5.5], [2.2, 4.4, 0.3, 9.9]),      # exact, interleaved
        ([1, 1, 2, 3], [2, 3, 3, 4]),                 # ties -> normal approximation with tie correction
        (list(range(9)), list(range(5, 14))),         # both > 8 -> normal approximation
        ([7.0], [1.0, 2.0, 3.0]),                     # one value
    ]
    for n1, n2 in ((5, 30), (20, 20), (40, 40), (8, 12)):
        cases.append((rng.normal(0, 1, n1).tolist(), rng.normal(0.7, 1.3, n2).tolist()))
    cases.append((rng.integers(0, 4, 25).tolist(), rng.integers(1, 5, 17).tolist()))  # heavy ties
    return cases


@pytest.mark.parametrize("a,b", _mwu_cases())
def test_mann_whitney_u_matches_scipy(a, b):
    scipy_stats = pytest.importorskip("scipy.stats")
    ref = scipy_stats.mannwhitneyu(a, b)  # defaults: two-sided, method auto, continuity correction
    u, p = mann_whitney_u(a, b)
    assert u == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_mann_whitney_u_known_exact_value():
    # 3 vs 3, completely separated: 1 of C(6,3) = 20 orderings is this extreme in each direction
    assert mann_whitney_u([1, 2, 3], [4, 5, 6]) == (0.0, pytest.approx(0.1))
    assert mann_whitney_u([1.0] * 5, [1.0] * 5)[1] == 1.0  # all equal: no evidence of a difference
    assert math.isnan(mann_whitney_u([], [1.0])[1])


def test_mwu_min_p_says_when_the_test_can_reach_a_level():
    assert mwu_min_p(3, 3) == pytest.approx(0.1)       # can never be < 0.05
    assert mwu_min_p(4, 4) == pytest.approx(2 / 70)    # can
    assert mwu_min_p(2, 2) > 0.05 and mwu_min_p(40, 40) < 1e-20
    assert mwu_min_p(0, 5) == 1.0


def test_grouped_bootstrap_includes_the_spread_between_groups():
    rng = np.random.default_rng(0)
    # three repeats, one of them 20% off: a rerun could well have drawn that one twice
    r0, r1, r2 = rng.normal(1.0, 0.01, 30), rng.normal(1.0, 0.01, 30), rng.normal(1.2, 0.01, 30)
    lo, hi = grouped_bootstrap_ci([r0, r1, r2])
    plain_lo, plain_hi = bootstrap_ci(np.concatenate([r0, r1, r2]))
    assert (lo, hi) == grouped_bootstrap_ci([r0, r1, r2])  # fixed seed
    assert lo < 1.0 and hi > 1.15                           # spans the odd repeat
    assert plain_hi < 1.02                                  # the plain bootstrap treats the steps as independent
    assert grouped_bootstrap_ci([r0]) == bootstrap_ci(r0)
    assert all(math.isnan(v) for v in grouped_bootstrap_ci([]))


def test_grouped_bootstrap_of_unequal_groups_and_other_statistics():
    rng = np.random.default_rng(1)
    groups = [rng.normal(1.0, 0.01, 30), rng.normal(1.0, 0.01, 12)]   # a repeat cut short
    lo, hi = grouped_bootstrap_ci(groups)
    assert 0.99 < lo < 1.0 < hi < 1.01
    p05 = grouped_bootstrap_ci(groups, lambda x, axis=None: np.quantile(x, 0.05, axis=axis))
    assert p05[0] < np.quantile(np.concatenate(groups), 0.05) < p05[1] + 1e-9 and p05[1] < lo
    assert grouped_bootstrap_ci(groups, np.min)[0] >= min(g.min() for g in groups)
