"""repeats: auto through the real sweep loop with a fake measurement function (launch.run replaced: each
repeat's median step time drawn from a seeded generator, no process, no timing): a config slower than the
baseline stops early, the baseline keeps pace with the configs tested against it, a config like its
reference in `run --against RUN` stops, a failed repeat stops a config, one config alone uses the precision
rule, every config stops at max_repeats at the most."""

import numpy as np
import pytest

from benchbench.spec.config import RunConfig
from benchbench.store import results
from benchbench.sweep import auto_repeats, launch, runner


@pytest.fixture
def fake_measure(monkeypatch):
    """launch.run -> ok rows whose step_time_s_median is truth[seed] x seeded noise; truth set per test."""
    rng = np.random.default_rng(0)
    state = {"truth": {}, "noise": 0.005, "fail": set()}

    def fake_run(cfg, run_dir, repeat, prestart=False, cluster=None, slot=0, gpus=None):
        if (cfg.seed, repeat) in state["fail"]:
            return {"status": "error", "measured_s": 0.1}
        t = state["truth"][cfg.seed] * float(np.exp(rng.normal(0, state["noise"])))
        return {"status": "ok", "step_time_s_median": t, "samples_per_s": 1 / t, "measured_s": 0.1}

    monkeypatch.setattr(launch, "run", fake_run)
    return state


def sweep(tmp_path, configs, baseline, **run):
    results.write_json(tmp_path / "run.json", {"run_id": "t", "suite": "t", "baseline_config_id": baseline, **run})
    runner.sweep(configs, tmp_path, {"run_id": "t", "suite": "t"}, prestart=False)
    counts = {}
    for r in results.read_rows(tmp_path):
        counts[r["seed"]] = counts.get(r["seed"], 0) + 1
    return counts


def auto(seed, **kw):
    return RunConfig(device="cpu", seed=seed, repeats="auto", max_repeats=kw.pop("max_repeats", 10), **kw)


def test_a_slower_config_stops_early_and_the_baseline_keeps_pace(tmp_path, fake_measure):
    fake_measure["truth"] = {0: 1.0, 1: 1.2, 2: 1.0}
    configs = [auto(0), auto(1), auto(2)]
    counts = sweep(tmp_path, configs, configs[0].config_id)
    assert counts[1] <= 5                           # 20% slower: told apart after few repeats
    assert counts[2] > counts[1] and counts[2] <= 10
    assert counts[0] == max(counts[1], counts[2])   # the baseline ran as long as the longest test needed it
    assert runner.pending(configs, tmp_path) == []


def test_noise_runs_to_the_cap_and_no_further(tmp_path, fake_measure):
    fake_measure["truth"], fake_measure["noise"] = {0: 1.0, 1: 1.0}, 0.05
    configs = [auto(0, max_repeats=6), auto(1, max_repeats=6)]
    assert sweep(tmp_path, configs, configs[0].config_id) == {0: 6, 1: 6}


def test_against_a_finished_run(tmp_path, fake_measure):
    fake_measure["truth"], fake_measure["noise"] = {0: 1.0, 1: 1.0}, 0.001
    configs = [auto(0), auto(1)]
    ref = tmp_path / "ref"
    ref.mkdir()
    for c in configs:   # the reference run: 5 repeats each, the same truth
        for r in range(5):
            results.append(ref, results.make_row({"run_id": "ref", "suite": "t"}, c, r, launch.run(c, ref, r)))
    new = tmp_path / "new"
    new.mkdir()
    counts = sweep(new, configs, configs[0].config_id, repeats_against=str(ref))
    assert all(3 <= n < 10 for n in counts.values()) and set(counts) == {0, 1}   # both "same" before the cap


def test_a_failed_repeat_stops_the_config_and_one_config_uses_the_precision_rule(tmp_path, fake_measure):
    fake_measure["truth"], fake_measure["fail"] = {0: 1.0, 1: 1.01}, {(1, 1)}
    configs = [auto(0), auto(1)]
    assert sweep(tmp_path, configs, configs[0].config_id)[1] == 3
    fake_measure["truth"], fake_measure["noise"] = {5: 1.0}, 0.0001
    one = tmp_path / "one"
    one.mkdir()
    assert sweep(one, [auto(5)], auto(5).config_id) == {5: 3}   # no reference: pinned within 0.5% at 3


def test_fixed_repeats_are_left_as_they_are(tmp_path):
    a, b = RunConfig(seed=1, repeats=2), auto(2)
    assert auto_repeats.wanted([a, b], tmp_path, set()) == {a.config_id: 2, b.config_id: 3}


def test_a_cap_below_three_counts_as_three(tmp_path, fake_measure):
    fake_measure["truth"], fake_measure["noise"] = {0: 1.0, 1: 1.0}, 0.05
    configs = [auto(0, max_repeats=2), auto(1, max_repeats=1)]
    assert sweep(tmp_path, configs, configs[0].config_id) == {0: 3, 1: 3}
