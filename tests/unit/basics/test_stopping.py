"""The stopping rules of measured_steps: auto and repeats: auto, on synthetic step-time streams."""

import numpy as np
import pytest

from benchbench.basics import stopping


def test_median_interval_is_the_order_statistic_interval_and_covers_the_median():
    x = np.arange(1, 21, dtype=float)  # n = 20: binom(20, .5) 2.5% quantile is 5 -> 5th and 16th values
    med, lo, hi = stopping.median_interval(x[::-1])
    assert (med, lo, hi) == (10.5, 6.0, 15.0)
    assert np.isnan(stopping.median_interval([1, 2, 3])[1])  # too few for an interval


def test_coverage_of_the_median_interval():
    rng = np.random.default_rng(0)
    hits = sum(lo <= 1.0 <= hi for lo, hi in (stopping.median_interval(rng.lognormal(0, 0.1, 30))[1:] for _ in range(400)))
    assert 0.92 <= hits / 400 <= 0.995


def run(rule: stopping.StepRule, stream):
    """Measure in the rule's blocks from an endless stream; (steps used, why it stopped)."""
    times = []
    while True:
        n = rule.next_block(len(times))
        if n == 0:
            return len(times), "max_steps"
        times += [next(stream) for _ in range(n)]
        stop, why = rule.verdict(times)
        if stop:
            return len(times), why


def stream(cv, seed=0, base=0.04):
    rng = np.random.default_rng(seed)
    while True:
        yield base * (1 + cv * rng.standard_normal())


def test_a_quiet_stream_stops_early_and_a_noisy_one_runs_to_its_cap():
    rule = stopping.StepRule(min_steps=10, max_steps=200, max_measure_s=1e9, target_halfwidth=0.005)
    n_quiet, why_quiet = run(rule, stream(0.005))
    n_noisy, why_noisy = run(rule, stream(0.2))
    assert why_quiet == "target met" and n_quiet < 30
    assert (n_noisy, why_noisy) == (200, "max_steps")


def test_time_cap_and_blocks():
    rule = stopping.StepRule(min_steps=10, max_steps=1000, max_measure_s=1.0, target_halfwidth=1e-9, block=10)
    assert rule.next_block(0) == 10 and rule.next_block(995) == 5 and rule.next_block(1000) == 0
    n, why = run(rule, stream(0.2, base=0.1))
    assert why == "max_measure_s" and 10 <= n <= 20


@pytest.mark.parametrize("values,target,expected", [
    ([1.0, 1.001, 0.999], 0.005, True), ([1.0, 1.1, 0.95], 0.005, False), ([1.0, 1.0], 0.5, False),
    (list(1 + 0.001 * np.random.default_rng(1).standard_normal(12)), 0.005, True),
])
def test_repeats_sure(values, target, expected):
    assert stopping.repeats_sure(values, target) is expected
