"""The history's calibration bench (bench/calibration/history.py) at a size CI affords: seeded 30-run series
with the noise fitted from the committed GPU rows, through changepoints.analyze; the headline rates of
docs/history.md hold (deterministic: a fixed seed, no timing). Also analyze's choices on single series."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from benchbench.analysis import changepoints as cp

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("calibration_history", ROOT / "bench" / "calibration" / "history.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rates(bench):
    return bench.simulate(60, 0, bench.fit(), proposers={"PELT": None})


def test_the_noise_model_is_fitted_from_the_committed_rows(bench):
    noise = bench.fit()
    assert 0.001 < noise["run_sd"] < 0.02 and 0 < noise["repeat_sd"] < 0.01 and 0 < noise["slow_share"] < 0.2


def test_headline_rates(rates):
    assert rates["flat", "PELT"]["change point"] <= 1 / 60
    assert rates["step 3%", "PELT"]["step found"] >= 0.95
    assert rates["drift 6%", "PELT"]["drift"] >= 0.8
    assert rates["two modes 3%", "PELT"]["change point"] <= 0.05 and rates["two modes 3%", "PELT"]["two modes"] >= 0.6
    assert rates["one outlier run", "PELT"]["change point"] == 0


def test_analyze_tells_a_step_from_a_drift_from_two_modes(bench):
    noise = {"run_sd": 0.003, "repeat_sd": 0.002, "slow_share": 0.0}
    rng = np.random.default_rng(1)
    step = [p * (0.95 if i >= 15 else 1) for i, p in enumerate(bench.series("flat", noise, rng)[0])]
    s = cp.analyze(step)
    assert [c.index for c in s.changes] == [15] and s.drift is None and s.two_modes is None
    s = cp.analyze(bench.series("drift 6%", noise, rng)[0])
    assert s.drift is not None and s.changes == [] and s.drift.change < -0.04
    s = cp.analyze(bench.series("two modes 3%", noise, rng)[0])
    assert s.two_modes is not None and s.changes == [] and s.drift is None


def test_two_odd_runs_side_by_side_are_no_change_point():
    rng = np.random.default_rng(2)
    pts = [100 * (1 + rng.normal(0, 0.003)) * (1 + rng.normal(0, 0.002, 3)) for _ in range(30)]
    pts[12], pts[13] = pts[12] * 0.9, pts[13] * 0.9
    assert cp.detect(pts) == [] and list(np.nonzero(cp.odd_runs(np.log([np.median(p) for p in pts])))[0]) == [12, 13]


def test_the_e_divisive_proposer_finds_a_clear_step(bench):
    y = np.r_[np.zeros(15), np.full(15, -0.05)] + np.random.default_rng(3).normal(0, 0.003, 30)
    assert bench.edivisive(y, 3) == [15]
