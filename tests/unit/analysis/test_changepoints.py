"""changepoints.detect on synthetic series of chosen values (no timing): flat A/A series have no change
point, a 5% step is found at its commit, two steps both, a one-run outlier none."""

import numpy as np
import pytest

from benchbench.analysis import changepoints as cp


def series(levels, repeats=3, run_noise=0.004, repeat_noise=0.003, seed=0):
    """Per-repeat values: each run off by its own factor (run_noise), its repeats around that (repeat_noise)."""
    rng = np.random.default_rng(seed)
    out = []
    for level in levels:
        run = level * (1 + rng.normal(0, run_noise))
        out.append(run * (1 + rng.normal(0, repeat_noise, repeats)))
    return out


@pytest.mark.parametrize("seed", range(10))
def test_twenty_flat_runs_have_no_change_point(seed):
    assert cp.detect(series([100.0] * 20, seed=seed)) == []


@pytest.mark.parametrize("k,step", [(8, 0.95), (10, 0.95), (8, 1.05), (12, 0.90)])
def test_a_step_is_found_at_its_commit(k, step):
    found = cp.detect(series([100.0] * k + [100.0 * step] * 8, seed=k))
    assert [c.index for c in found] == [k]
    c = found[0]
    assert c.ratio == pytest.approx(step, abs=0.01)
    assert c.ratio_ci_low <= c.ratio <= c.ratio_ci_high and not (c.ratio_ci_low <= 1 <= c.ratio_ci_high)
    assert c.floor >= 0.01 and c.segment_before == (0, k) and c.segment_after == (k, k + 8)


def test_two_steps_are_both_found():
    found = cp.detect(series([100.0] * 8 + [94.0] * 8 + [101.0] * 8, seed=3))
    assert [c.index for c in found] == [8, 16]
    assert found[0].ratio < 1 < found[1].ratio


@pytest.mark.parametrize("where", [0, 9, 19])
@pytest.mark.parametrize("factor", [1.3, 0.7, 2.0])
def test_a_one_run_outlier_is_not_a_change_point(where, factor):
    s = series([100.0] * 20, seed=where)
    s[where] = s[where] * factor
    assert cp.detect(s) == []


def test_a_step_within_the_series_own_noise_is_not_reported():
    # runs spread by 3% (robust CV): a 3% step is below 3 x that noise
    s = series([100.0] * 10 + [97.0] * 10, run_noise=0.03, repeat_noise=0.01, seed=1)
    assert cp.detect(s) == []


def test_identical_values_and_short_series():
    assert cp.detect([np.array([5.0, 5.0, 5.0])] * 20) == []
    assert cp.detect(series([100.0, 100.0, 50.0])) == []          # fewer than 2 x MIN_SEGMENT commits
    assert cp.detect([np.array([])] * 3 + series([1.0] * 3)) == []  # empty points are left out


def test_empty_points_do_not_shift_the_index():
    s = series([100.0] * 8 + [90.0] * 8, seed=2)
    s.insert(3, np.array([]))   # a commit whose config failed: no values
    assert [c.index for c in cp.detect(s)] == [9]


def test_judge_refuses_within_floor_and_names_the_floor():
    a = np.array([100.0, 100.2, 99.8, 100.1])
    ratio, lo, hi, floor, stands = cp.judge(a, a * 1.005)
    assert not stands and floor == pytest.approx(0.01)
    ratio, lo, hi, floor, stands = cp.judge(a, a * 1.05)
    assert stands and ratio == pytest.approx(1.05)


def test_a_large_drop_in_a_very_noisy_series_is_found():
    # runs spread ~25% (a loaded 2-core machine): the floor is ~75%; a 4x throughput drop is -75% but +300% in
    # time, and the step is judged as the slower side over the faster
    s = series([1000.0] * 6 + [250.0] * 6, run_noise=0.2, repeat_noise=0.15, seed=4)
    found = cp.detect(s)
    assert [c.index for c in found] == [6] and found[0].floor > 0.5 and found[0].ratio < 0.4
