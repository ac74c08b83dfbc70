"""warmup_steps: auto: warm up until step times settle (stopping.WarmupRule), with a minimum and a cap; the row
keeps the evidence (steps taken, the last steps' spread, why it stopped)."""

from __future__ import annotations

import pytest

from benchbench.basics.stopping import WarmupRule
from benchbench.spec.config import RunConfig
from benchbench.worker import measure


def stop_at(times, rule=WarmupRule()):
    """The step count at which the rule stops on this sequence of step times, and why."""
    for n in range(1, len(times) + 1):
        stop, why = rule.verdict(times[:n])
        if stop:
            return n, why
    return None, "continue"


def test_settled_steps_stop_at_the_minimum_and_the_first_step_never_counts():
    assert stop_at([9.0, 0.100, 0.101, 0.100]) == (3, "settled")
    assert stop_at([0.1, 0.1, 0.1]) == (3, "settled")  # at least min_steps, even when the first looks settled
    assert WarmupRule().spread([9.0, 0.1]) is None  # one step after the first: no window yet


def test_steps_still_getting_faster_keep_the_warmup_going():
    times = [5.0, 0.30, 0.20, 0.15, 0.12, 0.110, 0.108, 0.108]
    n, why = stop_at(times)
    assert (n, why) == (7, "settled")  # 0.12 and 0.110 differ by 8.7% of their median; 0.110 and 0.108 by 1.8%
    assert WarmupRule().spread(times[:6]) == pytest.approx((0.12 - 0.110) / 0.115)


def test_the_cap_ends_a_warmup_that_never_settles():
    noisy = [1.0] + [0.1, 0.2] * 40
    assert stop_at(noisy, WarmupRule(max_steps=10)) == (10, "max_steps")
    slow = [1.0] + [30.0, 60.0, 30.0, 60.0]
    assert stop_at(slow, WarmupRule(max_s=100.0)) == (4, "max_s")


def test_auto_in_a_config_and_in_a_row():
    cfg = RunConfig(model="gpt", model_size="tiny", device="cpu", warmup_steps="auto", measured_steps=2, seq_len=32,
                    batch_size=2)
    row = measure.run(cfg)
    assert row["status"] == "ok", row.get("reason")
    assert 3 <= row["warmup_steps_taken"] <= 30 and row["warmup_stop"] in ("settled", "max_steps", "max_s")
    assert row["warmup_stop"] != "settled" or row["warmup_spread"] <= 0.05
    fixed = measure.run(cfg.model_copy(update={"warmup_steps": 2}))
    assert fixed["warmup_steps_taken"] == 2 and "warmup_stop" not in fixed
    with pytest.raises(ValueError):
        RunConfig(warmup_steps=-1)
    with pytest.raises(ValueError):
        RunConfig(warmup_steps="often")
