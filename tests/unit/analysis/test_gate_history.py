"""gate against the history (analysis/gate_history.py), on records of chosen values: the window's runs are
the reference and their spread the noise; a slower run regresses, a run within the history's own noise
does not, a failed config regresses, too little history is not judged, another machine is refused."""

import numpy as np
import pandas as pd
import pytest

from benchbench.analysis import gate_history
from benchbench.spec.rules import GateError, Rule


def frame(values, machine="m", status="ok", config="c1"):
    n = len(values)
    return pd.DataFrame({"run_key": [f"h{i}" for i in range(n)], "config_id": config, "metric": "tokens_per_s",
                         "value": values, "status": status, "machine": machine, "machine_label": f"host {machine}",
                         "commit_time": pd.date_range("2026-01-01", periods=n, tz="UTC"),
                         "started_at": pd.date_range("2026-01-01", periods=n, tz="UTC")})


def run(values, status="ok", machine="m"):
    v = np.asarray(values, dtype=float)
    return {"run": {"run_key": "new", "machine": machine, "machine_label": f"host {machine}"},
            "configs": [{"config_id": "c1", "label": "gpt tiny", "status": status}],
            "results": [{"config_id": "c1", "metric": "tokens_per_s", "value": float(np.median(v)),
                         "ci_low": float(v.min()), "ci_high": float(v.max()), "repeats": len(v)}] if status == "ok" else [],
            "repeats": [{"config_id": "c1", "metric": "tokens_per_s", "value": float(x)} for x in v]}


HIST = [1000, 1004, 998, 1002, 999, 1001, 1003, 997, 1000, 1002]


def verdict(res):
    t = next(iter(res.tables.values()))
    return t["verdict"].iloc[0], bool(t["worse"].iloc[0])


def test_a_run_like_its_history_passes_and_a_slower_one_fails():
    assert verdict(gate_history.check(run([1001, 999, 1000]), frame(HIST))) == ("same", False)
    res = gate_history.check(run([950, 948, 952]), frame(HIST))
    assert verdict(res) == ("slower", True) and res.exit_code == 1
    assert verdict(gate_history.check(run([1060, 1058, 1062]), frame(HIST))) == ("faster", False)


def test_the_floor_is_the_historys_own_noise():
    noisy = [1000, 1080, 930, 1040, 960, 1100, 900, 1020, 980, 1050]   # runs spread ~6%
    t = next(iter(gate_history.check(run([950, 948, 952]), frame(noisy)).tables.values()))
    assert t["floor"].iloc[0] > 0.1 and not t["worse"].iloc[0]


def test_only_the_window_counts():
    old_then_new = [800] * 10 + HIST                                   # an old, slower era
    t = next(iter(gate_history.check(run([1001, 999, 1000]), frame(old_then_new), window=10).tables.values()))
    assert t["a_n"].iloc[0] == 10 and t["a_value"].iloc[0] == pytest.approx(1000.5)


def test_a_failed_config_regresses_and_too_little_history_is_not_judged():
    assert verdict(gate_history.check(run([], status="oom"), frame(HIST))) == ("status changed", True)
    assert verdict(gate_history.check(run([950, 948, 952]), frame(HIST[:2]))) == ("too few repeats", False)


def test_another_machine_or_metric_is_refused():
    with pytest.raises(GateError, match="no run of this machine"):
        gate_history.check(run([1000, 1000, 1000], machine="other"), frame(HIST))
    with pytest.raises(GateError, match="holds no step_time_s"):
        gate_history.check(run([1000, 1000, 1000]), frame(HIST), [Rule("step_time_s", 0.05, False)])
    with pytest.raises(GateError, match="--window 0"):
        gate_history.check(run([1000, 1000, 1000]), frame(HIST), window=0)


def test_nothing_judged_is_inconclusive_never_a_pass():
    res = gate_history.check(run([950, 948, 952]), frame(HIST[:2]))          # too little history everywhere
    assert res.inconclusive.startswith("nothing judged: too little history") and res.exit_code == 4
    res = gate_history.check(run([950]), frame(HIST))                         # too few repeats in the run
    assert res.inconclusive.startswith("nothing judged") and res.exit_code == 4
    assert gate_history.check(run([1001, 999, 1000]), frame(HIST)).inconclusive is None
    assert gate_history.check(run([], status="oom"), frame(HIST[:2])).exit_code == 1   # a failure is judged


def test_a_window_in_two_modes_is_not_judged():
    modes = [1000, 970, 1001, 969, 972, 1002, 999, 971, 1000, 968]      # two levels 3% apart, alternating
    res = gate_history.check(run([950, 948, 952]), frame(modes))
    t = next(iter(res.tables.values()))
    assert t["verdict"].iloc[0] == gate_history.TWO_MODES and "two modes 3.1% apart" in t["note"].iloc[0]
    assert res.exit_code == 4 and res.inconclusive.startswith("nothing judged")
    assert verdict(gate_history.check(run([950, 948, 952]), frame(HIST))) == ("slower", True)   # one mode: judged
