"""repeats: auto's sequential test (basics/sequential.py) with a fake measurement function (seeded
values, no timing): the looks' shares add up to ALPHA, a clear change stops early as `differs`, equal
configs stop as `same` or run to the cap, and the chance of a false `differs` over every look stays
below ALPHA (which looking again without spending would not keep)."""

import numpy as np
import pytest
from scipy import stats as sps

from benchbench.basics import sequential as seq


def test_the_looks_spend_alpha_once():
    shares = [seq.look_alpha(n, 10) for n in range(1, 11)]
    assert shares[:2] == [0.0, 0.0] and all(s > 0 for s in shares[2:])
    assert sum(shares) == pytest.approx(seq.ALPHA) and shares[2] < 0.001   # 3 repeats: overwhelming evidence only


def sequence(truth, noise, max_repeats, rng, against=None):
    """Repeats added one at a time (reference and config side by side) until decide() stops."""
    ref, vals = [], []
    while True:
        ref.append(float(np.exp(rng.normal(0, noise)))) if against is None else None
        vals.append(float(truth * np.exp(rng.normal(0, noise))))
        if len(vals) >= seq.MIN_REPEATS:
            d = seq.decide(ref if against is None else against, vals, max_repeats)
            if d.stop:
                return d


def test_a_clear_change_stops_early_as_differs():
    d = sequence(1.10, 0.005, 10, np.random.default_rng(0))
    assert d.outcome == "differs" and d.repeats <= 4 and d.ratio == pytest.approx(1.10, abs=0.02)


def test_equal_configs_stop_as_same_or_at_the_cap():
    d = sequence(1.0, 0.001, 10, np.random.default_rng(1))
    assert d.outcome == "same" and d.repeats < 10
    d = sequence(1.0, 0.02, 10, np.random.default_rng(2))      # too noisy to show either within 10 repeats
    assert d.outcome == "undecided" and d.repeats == 10


def test_a_fixed_reference_run():
    against = list(np.exp(np.random.default_rng(3).normal(0, 0.005, 5)))
    assert sequence(0.9, 0.005, 10, np.random.default_rng(4), against=against).outcome == "differs"


def test_the_error_rate_holds_over_every_look():
    rng = np.random.default_rng(5)
    outcomes = [sequence(1.0, 0.01, 10, rng).outcome for _ in range(400)]
    assert outcomes.count("differs") / 400 <= seq.ALPHA
    # the same looks, each at the full ALPHA: the error rate is spent again at every look
    rng, naive = np.random.default_rng(5), 0
    for _ in range(400):
        x, y = list(np.exp(rng.normal(0, 0.01, 3))), list(np.exp(rng.normal(0, 0.01, 3)))
        for _ in range(8):
            if sps.ttest_ind(np.log(x), np.log(y), equal_var=False).pvalue < seq.ALPHA:
                naive += 1
                break
            x.append(float(np.exp(rng.normal(0, 0.01))))
            y.append(float(np.exp(rng.normal(0, 0.01))))
    assert naive / 400 > 1.5 * seq.ALPHA


def test_a_small_real_change_is_not_called_same():
    rng = np.random.default_rng(6)
    outcomes = [sequence(1.03, 0.01, 10, rng).outcome for _ in range(200)]
    assert outcomes.count("same") / 200 <= seq.ALPHA
