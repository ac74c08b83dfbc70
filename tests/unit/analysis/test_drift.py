"""drift.test on seeded synthetic series (no timing): a 6% creep over 30 commits is a drift, a flat series
is not, one odd run neither makes nor hides one, a creep below the floor is not reported."""

import numpy as np
import pytest

from benchbench.analysis import drift


def series(levels, run_noise=0.003, repeat_noise=0.002, seed=0):
    rng = np.random.default_rng(seed)
    return [lv * (1 + rng.normal(0, run_noise)) * (1 + rng.normal(0, repeat_noise, 3)) for lv in levels]


@pytest.mark.parametrize("seed", range(5))
def test_a_slow_drift_is_found_and_measured(seed):
    d = drift.test(series(100 * (1 - 0.002 * np.arange(30)), seed=seed))
    assert d is not None and d.change == pytest.approx(-0.058, abs=0.01)
    assert d.slope_ci_low <= d.slope <= d.slope_ci_high < 0 and d.p_value < drift.ALPHA
    assert (d.start, d.end) == (0, 30) and d.floor >= 0.01


@pytest.mark.parametrize("seed", range(10))
def test_flat_series_have_no_drift(seed):
    assert drift.test(series([100.0] * 30, seed=seed)) is None


def test_one_odd_run_neither_makes_nor_hides_a_drift():
    s = series([100.0] * 30, seed=1)
    s[29] = s[29] * 0.8
    assert drift.test(s) is None
    s = series(100 * (1 - 0.002 * np.arange(30)), seed=1)
    s[0] = s[0] * 0.8
    assert drift.test(s) is not None


def test_a_creep_below_the_floor_and_short_series_are_not_reported():
    # 0.02% a commit: significant with no noise at all, but 0.6% over 30 commits is below the 1% floor
    assert drift.test([np.array([100 * (1 - 0.0002 * i)] * 3) for i in range(30)]) is None
    assert drift.test(series(100 * (1 - 0.01 * np.arange(5)))) is None             # fewer than MIN_POINTS
    assert drift.test([np.array([5.0, 5.0, 5.0])] * 20) is None


def test_only_the_window_is_tested():
    s = series([100.0] * 20 + list(100 * (1 - 0.004 * np.arange(20))), seed=2)
    d = drift.test(s, window=15)
    assert d is not None and (d.start, d.end) == (25, 40)
