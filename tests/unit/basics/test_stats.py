"""stats.summarize against numbers computed by hand, the bootstrap CI, and small samples."""

import math

import pytest

from benchbench.basics.stats import bootstrap_ci, summarize

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


# ---------------------------------------------------------------- the repeat as the unit (compare, gate)

import numpy as np  # noqa: E402

from benchbench.basics.stats import (  # noqa: E402
    hierarchical_bootstrap,
    interval,
    per_repeat,
    ratio_interval,
    robust_cv,
)


def test_bootstrap_ci_is_scipys():
    scipy_stats = pytest.importorskip("scipy.stats")
    x = np.random.default_rng(3).lognormal(0, 0.2, 50)
    ref = scipy_stats.bootstrap((x,), np.median, n_resamples=2000, method="percentile", vectorized=True,
                                random_state=np.random.default_rng(0)).confidence_interval
    assert bootstrap_ci(x) == (pytest.approx(ref.low), pytest.approx(ref.high))


def test_hierarchical_bootstrap_includes_the_spread_between_repeats():
    rng = np.random.default_rng(0)
    # three repeats, one of them 20% off: a rerun could well have drawn that one twice
    r0, r1, r2 = rng.normal(1.0, 0.01, 30), rng.normal(1.0, 0.01, 30), rng.normal(1.2, 0.01, 30)
    lo, hi = interval(hierarchical_bootstrap([r0, r1, r2]))
    plain_lo, plain_hi = bootstrap_ci(np.concatenate([r0, r1, r2]))
    assert (lo, hi) == interval(hierarchical_bootstrap([r0, r1, r2]))  # fixed seed
    assert lo < 1.0 and hi > 1.15                                      # spans the odd repeat
    assert plain_hi < 1.02                          # pooling the steps treats them as independent: too narrow
    assert all(np.isnan(hierarchical_bootstrap([])))


def test_hierarchical_bootstrap_of_unequal_repeats_and_other_statistics():
    rng = np.random.default_rng(1)
    groups = [rng.normal(1.0, 0.01, 30), rng.normal(1.0, 0.01, 12), rng.normal(1.0, 0.01, 30)]  # one cut short
    lo, hi = interval(hierarchical_bootstrap(groups))
    assert 0.99 < lo < 1.0 < hi < 1.01
    p05 = interval(hierarchical_bootstrap(groups, lambda x, axis=None: np.quantile(x, 0.05, axis=axis)))
    assert p05[1] < lo


def test_per_repeat_and_robust_cv():
    assert list(per_repeat([[1.0, 2.0, 3.0], [5.0], []])) == [2.0, 5.0]
    assert robust_cv([1.0, 1.0, 1.0]) == 0.0 and np.isnan(robust_cv([1.0]))
    assert robust_cv([1.0, 1.01, 0.5]) == pytest.approx(1.4826 * 0.01)  # one odd repeat barely moves it


def test_ratio_interval_covers_at_about_its_level_and_ignores_one_odd_repeat():
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(400):
        a, b = rng.normal(1.0, 0.01, 5), rng.normal(1.0, 0.01, 5)
        _, lo, hi = ratio_interval(a, b)
        hits += lo <= 1.0 <= hi
    assert 0.9 <= hits / 400 <= 1.0
    r, lo, hi = ratio_interval([1.0, 1.001, 0.88], [0.95, 0.951, 0.949])  # a slow repeat in A
    assert r == pytest.approx(0.95 / 1.0, rel=1e-3) and hi < 1.0
    assert np.isnan(ratio_interval([1.0], [1.0, 2.0])[0])
