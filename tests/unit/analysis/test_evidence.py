"""evidence (with compare, gate and recommend) on the calibration simulator at a size CI affords:
seeded, repeat-level rows, no timing. The headline numbers of docs/gate.md, pinned: identical runs
of 50 configs get no verdict, a point instead of the interval would, the interval covers at 3
repeats, two modes are flagged and not judged, a 3% slowdown is found at 5 repeats."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench" / "calibration"))
import simulate as sim  # noqa: E402

from benchbench.analysis import compare, evidence, gate  # noqa: E402
from benchbench.spec.rules import parse_rule  # noqa: E402
from benchbench.store.baseline import Baseline  # noqa: E402

FITTED = sim.Noise(between_runs=0.0025, between_repeats=0.0025, slow_rate=0.04, slow_size=0.11, steps_noise=0.0064)


def pair(noise, repeats, seed, configs=50, **kw):
    a = sim.frame(sim.run_rows("a", configs, repeats, noise, seed, steps=0))
    b = sim.frame(sim.run_rows("b", configs, repeats, noise, seed + 1, steps=0, **kw))
    return a, b


def verdicts(t) -> int:
    return int(t["verdict"].isin(["faster", "slower"]).sum())


def test_identical_runs_of_50_configs_get_no_verdict_and_every_non_verdict_says_how_much():
    for s in range(3):
        t = compare.compare(*pair(FITTED, 3, 100 + 2 * s))
        assert verdicts(t) == 0
        same, undecided = t[t["verdict"] == "same"], t[t["verdict"] == "undecided"]
        assert same["note"].str.contains(r"within ±\d").all() and undecided["note"].str.contains("could hide").all()
        assert len(same) + len(undecided) + (t["verdict"] == "two modes").sum() == 50


def test_the_interval_not_a_point_keeps_identical_noisy_runs_apart(monkeypatch):
    noisy = FITTED.but(between_repeats=0.01)
    runs = [pair(noisy, 3, 200 + 2 * s) for s in range(3)]
    assert all(verdicts(compare.compare(a, b)) == 0 for a, b in runs)
    monkeypatch.setattr(evidence, "MEDIAN_EFFICIENCY", 0.0)       # the interval collapses to its point
    monkeypatch.setattr(evidence, "DEFAULT_BETWEEN_RUN_SD", 0.0)
    assert all(verdicts(compare.compare(a, b)) >= 3 for a, b in runs)


def test_the_interval_covers_the_true_ratio_at_3_repeats():
    covered, n = 0, 0
    for s in range(8):  # 8 pairs of runs of 50 configs, each config 3% slower in B
        a, b = pair(FITTED, 3, 300 + 2 * s, slowdown=0.03)
        t = compare.compare(a, b)
        truth = 1 / 1.03
        covered += int(((t["ratio_ci_low"] <= truth) & (truth <= t["ratio_ci_high"])).sum())
        n += len(t)
    assert 0.93 <= covered / n <= 0.999, covered / n


def test_a_lucky_tight_triple_borrows_the_others_spread():
    rng = np.random.default_rng(1)
    sides = [np.log(1 + rng.normal(0, 0.01, 3)) for _ in range(40)]
    pri = evidence.prior(sides, between_run_sd=0.0)
    assert pri.sd == pytest.approx(0.01, rel=0.35)
    tight_a, tight_b = [1.0, 1.0001, 0.9999], [0.988, 0.9881, 0.9879]  # 1.2% apart, each triple within 0.01%
    r = evidence.test(tight_a, tight_b, pri)
    assert r["p_value"] > 0.05 and r["spread_sd"] > 0.005
    alone = evidence.test(tight_a, tight_b, evidence.prior([np.log(tight_a), np.log(tight_b)], 0.0))
    assert alone["p_value"] < 1e-3  # without the other configs it would have been a verdict


def test_two_modes_are_flagged_not_judged():
    two = FITTED.but(mode_gap=0.03)
    for s in range(3):
        t = compare.compare(*pair(two, 3, 400 + 2 * s))
        assert verdicts(t) == 0 and (t["verdict"] == "two modes").mean() >= 0.8
        assert t["note"].str.startswith("add repeats").all()


def test_a_3pct_slowdown_is_found_at_5_repeats_and_nothing_else_moves():
    slowed = sim.config_ids(5)
    found = []
    for s in range(3):
        t = compare.compare(*pair(FITTED, 5, 500 + 2 * s, slowdown={c: 0.03 for c in slowed}))
        hit = t["config_id"].isin(slowed)
        found += list(t.loc[hit, "verdict"] == "slower")
        assert verdicts(t[~hit]) == 0
    assert np.mean(found) >= 0.9


def test_gate_of_50_identical_configs_passes_and_two_modes_are_inconclusive():
    two = gate.check(*_gate_args(*pair(FITTED.but(mode_gap=0.03), 3, 700)))
    assert two.exit_code == gate.EXIT_INCONCLUSIVE and two.inconclusive.startswith("two modes")
    for s in range(3):
        a, b = pair(FITTED, 3, 600 + 2 * s)
        res = gate.check(*_gate_args(a, b))
        assert res.exit_code == 0 and res.family == 50


def _gate_args(a, b):
    return (Baseline(Path("sim.json"), {"suite": "s", "smoke": False, "env": {}}, a), b, {"suite": "s", "smoke": False},
            {}, [parse_rule("tokens_per_s:-5%")])


def test_odd_slow_repeats_are_dropped_but_a_slow_majority_is_two_modes():
    pri = evidence.prior([np.log([1.0, 1.001, 0.999])] * 20, between_run_sd=0.0)
    one_odd = evidence.test([1.0, 1.001, 0.90], [1.0, 0.999, 1.001], pri)        # an odd slow repeat in A
    assert not one_odd["modes"] and abs(one_odd["log_change"]) < 0.002
    mostly_slow = evidence.test([1.0, 0.90, 0.901], [1.0, 0.999, 1.001], pri)   # the better state is the minority
    assert mostly_slow["modes"].startswith("most of A's repeats")
    assert math.isfinite(one_odd["se"])


def test_between_run_sd_from_history_recovers_the_drift():
    rng = np.random.default_rng(3)
    runs = [np.exp(rng.normal(0, 0.01) + rng.normal(0, 0.002, 5)) for _ in range(60)]  # runs 1% apart
    assert evidence.between_run_sd_from(runs) == pytest.approx(0.01, rel=0.3)
    assert math.isnan(evidence.between_run_sd_from(runs[:2]))
    a, b = pair(FITTED.but(between_runs=0.01), 3, 800)
    assert verdicts(compare.compare(a, b, between_run_sd=0.01)) <= verdicts(compare.compare(a, b))
