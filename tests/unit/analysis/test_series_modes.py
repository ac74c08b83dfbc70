"""series_modes.detect on seeded synthetic series: values in two modes 3% apart at random commits are
flagged; a flat series, a step, a temporary regression and one odd run are not."""

import numpy as np
import pytest

from benchbench.analysis import series_modes


def series(levels, run_noise=0.003, seed=0):
    rng = np.random.default_rng(seed)
    return [lv * (1 + rng.normal(0, run_noise)) * (1 + rng.normal(0, 0.001, 3)) for lv in levels]


@pytest.mark.parametrize("seed", range(5))
def test_two_modes_at_random_commits_are_flagged(seed):
    rng = np.random.default_rng(100 + seed)
    m = series_modes.detect(series(np.where(rng.random(30) < 0.5, 100.0, 97.0), seed=seed))
    assert m is not None and m.gap == pytest.approx(0.031, abs=0.006)
    assert m.low_points + m.high_points == 30 and m.switches >= 5 and m.low < m.high


@pytest.mark.parametrize("levels", [[100.0] * 30, [100.0] * 15 + [97.0] * 15, [100.0] * 10 + [97.0] * 8 + [100.0] * 12])
def test_flat_a_step_and_a_temporary_regression_are_not_two_modes(levels):
    for seed in range(5):
        assert series_modes.detect(series(levels, seed=seed)) is None


def test_one_or_two_odd_runs_are_not_two_modes():
    s = series([100.0] * 30, seed=3)
    s[7], s[19] = s[7] * 0.9, s[19] * 0.9
    assert series_modes.detect(s) is None


def test_the_runs_test_tells_alternation_from_blocks():
    assert series_modes.runs_z(np.array([0, 1] * 10, dtype=bool)) > 2
    assert series_modes.runs_z(np.array([0] * 10 + [1] * 10, dtype=bool)) < series_modes.MIN_RUNS_Z


def test_a_step_in_eight_commits_is_not_two_modes():
    # 4 and 4: the runs test alone (z = -2.29) would not call this clustered
    assert series_modes.detect(series([100.0] * 4 + [95.0] * 4, seed=1)) is None
