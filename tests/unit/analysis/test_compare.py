"""compare(): every verdict, the repeat as the unit (a value is the median over repeats; too few
repeats is no verdict; the ratio's interval and the noise floor decide), the direction of each kind
of metric, threshold-only deterministic metrics, and bad input. Synthetic rows only: no timing."""


import numpy as np
import pytest

from benchbench.analysis import compare
from benchbench.basics import stats
from tests.fixtures.runs import config, frame, row, steps

C = compare.compare


def one(t, cid="c1"):
    return t.set_index("config_id").loc[cid]


def test_contract_columns_and_one_row_per_config_of_either_run():
    a = frame(*config("c1", 0.1), *config("c2", 0.1, attention="sdpa"))
    b = frame(*config("c1", 0.1, seed=1), *config("c3", 0.1, attention="flex", seed=1))
    t = C(a, b)
    for col in ("config_id", "label", "status_a", "status_b", "a_value", "a_ci_low", "a_ci_high", "a_n", "b_value",
                "b_ci_low", "b_ci_high", "b_n", "ratio", "ratio_ci_low", "ratio_ci_high", "floor", "verdict"):
        assert col in t.columns, col
    assert list(t["config_id"]) == ["c1", "c2", "c3"]
    assert set(t["verdict"]) <= set(compare.VERDICTS)
    assert one(t, "c2")["verdict"] == "only in A" and one(t, "c3")["verdict"] == "only in B"
    assert one(t, "c2")["ratio"] is None and one(t, "c3")["status_a"] is None
    assert one(t, "c1")["label"] == "attention=eager"


def test_slower_and_faster_for_throughput():
    a = frame(*config("c1", 0.100))
    slow = frame(*config("c1", 0.125, seed=1))          # 25% longer steps: 20% less throughput
    fast = frame(*config("c1", 0.080, seed=1))
    r = one(C(a, slow))
    assert r["verdict"] == "slower" and r["worse"]
    assert r["ratio"] == pytest.approx(0.8, rel=0.03) and r["ratio_ci_high"] < 1
    assert r["test"] == "t" and r["samples"] == "steps" and (r["a_n"], r["b_n"]) == (3, 3)
    assert r["a_ci_low"] <= r["a_value"] <= r["a_ci_high"]
    assert r["a_value"] == pytest.approx(1024 / 0.1, rel=0.02)  # median over repeats of the median per-step throughput
    f = one(C(a, fast))
    assert f["verdict"] == "faster" and not f["worse"] and f["ratio"] > 1.2


def test_lower_is_better_for_step_time_and_memory():
    a = frame(*config("c1", 0.100, rss=400e6))
    b = frame(*config("c1", 0.125, seed=1, rss=300e6))
    assert one(C(a, b, "step_time_s"))["verdict"] == "slower"        # longer steps
    assert one(C(a, b, "step_time_s"))["ratio"] == pytest.approx(1.25, rel=0.03)
    m = one(C(a, b, "peak_rss_bytes"))                                # less memory: better
    assert m["verdict"] == "faster" and m["samples"] == "repeats" and m["a_n"] == 3
    assert compare.higher_is_better("tokens_per_s") and not compare.higher_is_better("peak_allocated_bytes")


@pytest.mark.parametrize("seed", range(40))
def test_identical_runs_get_no_verdict(seed):
    """A/A: 1-2% step noise, processes 0.3% apart, now and then one repeat 12% slower (as on an H200)."""
    rng = np.random.default_rng(seed)
    slow = [1.12 if rng.random() < 0.25 else None for _ in range(2)]
    a = frame(*config("c1", 0.1, seed=2 * seed, repeat_spread=0.003, spread=0.03, slow_repeat=slow[0]))
    b = frame(*config("c1", 0.1, seed=2 * seed + 1, repeat_spread=0.003, spread=0.03, slow_repeat=slow[1]))
    for metric in ("tokens_per_s", "step_time_s", "step_time_s_p05"):
        assert one(C(a, b, metric))["verdict"] in compare.NO_VERDICT, metric


def test_a_planted_slowdown_is_slower_even_beside_an_odd_repeat():
    a = frame(*config("c1", 0.100, repeat_spread=0.003, slow_repeat=1.11))  # one repeat 11% slower
    b = frame(*config("c1", 0.106, seed=1, repeat_spread=0.003))              # 6% longer steps
    r = one(C(a, b))
    assert r["verdict"] == "slower" and r["floor"] < 0.05


def test_too_few_repeats_is_no_verdict():
    a = frame(*config("c1", 0.100, repeats=2))
    b = frame(*config("c1", 0.200, seed=1))
    r = one(C(a, b))
    assert r["verdict"] == "too few repeats" and not r["worse"] and "2 and 3 ok repeats" in r["note"]
    assert one(C(frame(*config("c1", 0.1, repeats=2)), frame(*config("c1", 0.1, repeats=2, seed=1)),
                 "hardware_flops_per_step"))["verdict"] == "same"  # deterministic: no repeats needed


def test_within_the_threshold_or_the_noise_floor_is_same_within_noise():
    a = frame(*config("c1", 0.100, repeat_spread=0.0005))
    b = frame(*config("c1", 0.103, seed=1, repeat_spread=0.0005))     # 3% slower, very consistent repeats
    r = one(C(a, b))
    assert r["verdict"] == "slower" and r["floor"] == pytest.approx(stats.MIN_NOISE_FLOOR)
    r = one(C(a, b, threshold=0.05))
    assert r["verdict"] == "same" and r["ratio_ci_high"] < 1 and "inside the ±5.0% floor" in r["note"]
    assert one(C(a, b, threshold=0.02))["verdict"] == "slower"
    quiet = frame(*config("c1", 0.100, repeat_spread=0.0005, spread=0.001))
    tiny = frame(*config("c1", 0.1005, seed=1, repeat_spread=0.0005, spread=0.001))  # 0.5%: below the 1% floor
    r = one(C(quiet, tiny))
    assert r["verdict"] in compare.NO_VERDICT


def test_noisy_repeats_are_undecided_and_say_what_could_hide():
    a = frame(*config("c1", 0.100, repeat_spread=0.05, repeats=5))
    b = frame(*config("c1", 0.100, seed=1, repeat_spread=0.05, repeats=5))
    r = one(C(a, b))
    assert r["verdict"] == "undecided" and r["floor"] == stats.MIN_NOISE_FLOOR
    hide = float(r["note"].split("up to ")[1].split("%")[0]) / 100
    assert hide > 0.02 and "settle it" in r["note"]


def test_per_repeat_metrics_need_repeats_too():
    a = frame(*[row("c1", k, rss=400e6 + k) for k in range(3)])
    b = frame(*[row("c1", k, rss=500e6 + k) for k in range(3)])
    assert one(C(a, b, "peak_rss_bytes"))["verdict"] == "slower"        # hungrier
    assert one(C(a, b, "peak_rss_bytes", threshold=0.30))["verdict"] == "same"


def test_deterministic_metric_uses_the_threshold_alone():
    a = frame(*config("c1", 0.1, hardware_flops_per_step=6.0e9))
    b = frame(*config("c1", 0.1, seed=1, hardware_flops_per_step=6.3e9))   # +5% FLOPs, no spread at all
    r = one(C(a, b, "hardware_flops_per_step"))
    assert r["test"] == "threshold" and r["verdict"] == "slower" and r["ratio"] == pytest.approx(1.05)
    same = one(C(a, b, "hardware_flops_per_step", threshold=0.10))
    assert same["verdict"] == "same" and same["note"] == "within the ±10.0% threshold; deterministic: threshold only"
    assert one(C(a, a, "hardware_flops_per_step"))["verdict"] == "same"


@pytest.mark.parametrize("sa,sb,verdict,worse", [
    ("ok", "oom", "status changed", True),
    ("ok", "error", "status changed", True),
    ("ok", "skipped", "status changed", True),
    ("oom", "ok", "status changed", False),
    ("oom", "oom", "same", False),
])
def test_status_changes(sa, sb, verdict, worse):
    a, b = frame(row("c1", 0, status=sa)), frame(row("c1", 0, status=sb))
    r = one(C(a, b))
    assert (r["verdict"], bool(r["worse"]), r["ratio"]) == (verdict, worse, None)
    assert (r["status_a"], r["status_b"]) == (sa, sb)


def test_one_failed_repeat_is_the_config_status():
    a = frame(*config("c1", 0.1))
    b = frame(row("c1", 0, step_times=steps(0.1)), row("c1", 1, status="error"))
    r = one(C(a, b))
    assert r["status_b"] == "error" and r["verdict"] == "status changed" and r["worse"]


def test_missing_config_is_worse_only_when_it_was_ok():
    a = frame(*config("c1", 0.1), row("c2", 0, status="oom", attention="sdpa"))
    b = frame(*config("c1", 0.1, seed=1))
    t = C(a, b)
    assert one(t, "c2")["verdict"] == "only in A" and not one(t, "c2")["worse"]
    t = C(frame(*config("c1", 0.1), *config("c2", 0.1, attention="sdpa")), b)
    assert one(t, "c2")["worse"]


def test_direction_override_and_bad_input():
    a, b = frame(*config("c1", 0.1)), frame(*config("c1", 0.125, seed=1))
    assert one(C(a, b, "step_time_s", higher_better=True))["verdict"] == "faster"
    with pytest.raises(compare.CompareError, match="'nope' has no value.*tokens_per_s"):
        C(a, b, "nope")
    with pytest.raises(compare.CompareError, match="peak_rss_bytes"):
        C(a, b, "peak_allocated_bytes")          # a CPU run: the message points at the CPU's memory column
    with pytest.raises(compare.CompareError, match="level"):
        C(a, b, level=1.5)
    with pytest.raises(compare.CompareError, match="magnitude"):
        C(a, b, threshold=-0.05)


def test_runs_without_ok_rows_compare_on_status_only():
    a, b = frame(row("c1", 0, status="error")), frame(row("c1", 0, status="error"))
    assert one(C(a, b, "anything"))["verdict"] == "same"


def test_step_time_statistics_are_the_median_over_repeats_of_each_repeats_statistic():
    rows = [row("c1", 0, step_times=[0.1, 0.2, 0.3, 0.4, 0.5]), row("c1", 1, step_times=[0.6, 0.7, 0.8, 0.9, 1.0]),
            row("c1", 2, step_times=[0.2, 0.3, 0.4, 0.5, 0.6])]
    a = frame(*rows)
    t = lambda m: one(C(a, a, m))  # noqa: E731
    assert t("step_time_s")["a_value"] == pytest.approx(0.4)              # medians 0.3, 0.8, 0.4 -> 0.4
    assert t("step_time_s_median")["a_value"] == pytest.approx(0.4)
    assert t("step_time_s_min")["a_value"] == pytest.approx(0.2)          # minima 0.1, 0.6, 0.2
    assert t("step_time_s_p05")["a_value"] == pytest.approx(0.2 + 0.04 * 0.1 / 0.1 * 0.1, rel=0.2)
    r = t("step_time_s_p05")
    assert r["a_ci_low"] <= r["a_value"] <= r["a_ci_high"] and r["samples"] == "steps" and r["a_n"] == 3
    # a spread statistic is a per-repeat column, not a statistic of the step times
    b = frame(*[{**x, "step_time_s_cv": 0.1} for x in rows])
    assert one(C(b, b, "step_time_s_cv"))["samples"] == "repeats"


def test_fast_steps_see_a_slowdown_as_the_median_does():
    a = frame(*config("c1", 0.100))
    b = frame(*config("c1", 0.150, seed=1))
    r = one(C(a, b, "step_time_s_p05", threshold=0.2))
    assert r["verdict"] == "slower" and r["ratio"] == pytest.approx(1.5, rel=0.05) and r["test"] == "t"
