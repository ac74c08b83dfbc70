"""gate: rule strings, the environment refusal, input refusals, regressions (threshold and
significance, status, missing) and the exit code; the markdown summary's first line."""

import re

import pytest

from benchbench.analysis import gate
from benchbench.present import markdown
from benchbench.store import baseline
from tests.fixtures.runs import CPU_ENV, GPU_ENV, config, row, write_run

RUN = {"suite": "quickstart", "suite_sha256": "abc", "smoke": False}


@pytest.fixture
def base(tmp_path):
    rows = [*config("c1", 0.100), *config("c2", 0.100, attention="sdpa", seed=3)]
    run_dir = write_run(tmp_path / "base", rows)
    path = baseline.save(run_dir, "cpu-test", tmp_path / "baselines", ["tokens_per_s:-10%", "peak_rss_bytes:+5%"])
    return baseline.load(path)


def check(base, rows, env=CPU_ENV, run=RUN, **kw):
    import pandas as pd

    return gate.check(base, pd.DataFrame(rows), run, env, **kw)


@pytest.mark.parametrize("text,metric,threshold,higher", [
    ("tokens_per_s:-5%", "tokens_per_s", 0.05, True),
    ("peak_allocated_bytes:+3%", "peak_allocated_bytes", 0.03, False),
    ("tokens_per_s:5%", "tokens_per_s", 0.05, True),               # sign from the metric
    ("step_time_s_median: 2.5 %", "step_time_s_median", 0.025, False),
    ("my_score:-1%", "my_score", 0.01, True),                      # unknown metric, sign given
])
def test_parse_rule(text, metric, threshold, higher):
    r = gate.parse_rule(text)
    assert (r.metric, r.threshold, r.higher_is_better) == (metric, pytest.approx(threshold), higher)
    assert gate.parse_rule(str(r)) == r


@pytest.mark.parametrize("text,message", [
    ("tokens_per_s", "expected metric:-N%"),
    ("tokens_per_s:-5", "expected metric:-N%"),
    ("tokens_per_s:+5%", "higher is better.*tokens_per_s:-5%"),
    ("peak_rss_bytes:-5%", "lower is better.*peak_rss_bytes:\\+5%"),
    ("my_score:5%", "no known good direction"),
])
def test_bad_rules_say_how_to_write_them(text, message):
    with pytest.raises(gate.GateError, match=message):
        gate.parse_rule(text)


def test_a_a_passes(base):
    res = check(base, [*config("c1", 0.100, seed=7), *config("c2", 0.100, attention="sdpa", seed=8)])
    assert res.exit_code == 0 and len(res.regressions) == 0
    assert [str(r) for r in res.rules] == ["tokens_per_s:-10%", "peak_rss_bytes:+5%"]  # the baseline's rules


def test_a_slowdown_beyond_the_threshold_fails(base):
    res = check(base, [*config("c1", 0.125, seed=7), *config("c2", 0.100, attention="sdpa", seed=8)])
    assert res.exit_code == 1
    reg = res.regressions
    assert list(reg["config_id"]) == ["c1"] and list(reg["rule"]) == ["tokens_per_s:-10%"]
    assert reg.iloc[0]["verdict"] == "slower"


def test_a_slowdown_within_the_threshold_passes(base):
    res = check(base, [*config("c1", 0.105, seed=7), *config("c2", 0.100, attention="sdpa", seed=8)])
    t = res.tables["tokens_per_s:-10%"].set_index("config_id")
    assert res.exit_code == 0 and t.loc["c1", "verdict"] == "same" and t.loc["c1", "ratio_ci_high"] < 1


def test_a_speedup_and_less_memory_pass(base):
    res = check(base, [*config("c1", 0.05, seed=7, rss=200e6), *config("c2", 0.05, attention="sdpa", seed=8, rss=200e6)])
    assert res.exit_code == 0
    assert set(res.tables["tokens_per_s:-10%"]["verdict"]) == {"faster"}


def test_more_memory_fails(base):
    res = check(base, [*config("c1", 0.1, seed=7, rss=480e6), *config("c2", 0.1, attention="sdpa", seed=8)])
    assert res.exit_code == 1 and list(res.regressions["rule"]) == ["peak_rss_bytes:+5%"]


@pytest.mark.parametrize("status", ["oom", "error", "timeout", "killed", "skipped"])
def test_ok_to_failure_fails_whatever_the_numbers(base, status):
    res = check(base, [*config("c1", 0.1, seed=7), row("c2", 0, status=status, attention="sdpa")])
    assert res.exit_code == 1 and set(res.regressions["config_id"]) == {"c2"}
    assert set(res.regressions["verdict"]) == {"status changed"}


def test_missing_config_fails_and_a_new_one_does_not(base):
    res = check(base, [*config("c1", 0.1, seed=7), *config("c9", 0.1, attention="flex", seed=8)])
    assert res.exit_code == 1 and set(res.regressions["config_id"]) == {"c2"}
    assert set(res.regressions["verdict"]) == {"only in A"}


def test_rules_given_replace_the_baselines(base):
    rows = [*config("c1", 0.105, seed=7), *config("c2", 0.100, attention="sdpa", seed=8)]
    res = check(base, rows, rules=[gate.parse_rule("tokens_per_s:-2%")])
    assert res.exit_code == 1 and [str(r) for r in res.rules] == ["tokens_per_s:-2%"]


def test_default_rules_without_any():
    import pandas as pd

    rules = gate.default_rules(pd.DataFrame([*config("c1", 0.1)]))
    assert [str(r) for r in rules] == ["tokens_per_s:-5%", "peak_rss_bytes:+5%"]
    gpu = pd.DataFrame([row("c1", 0, peak_allocated_bytes=1e9)])
    assert str(gate.default_rules(gpu)[1]) == "peak_allocated_bytes:+5%"


@pytest.mark.parametrize("key,value,what", [
    ("gpu_name", "NVIDIA H200", "GPU model: NVIDIA H100 80GB HBM3 \\(baseline\\) vs NVIDIA H200 \\(run\\)"),
    ("driver_version", "590.10.01", "NVIDIA driver major version: 580 \\(baseline\\) vs 590"),
    ("torch_version", "2.12.0+cu130", "torch version: 2.11.0\\+cu130"),
    ("cuda_version", "12.8", "CUDA version: 13.0"),
])
def test_environment_refusal(tmp_path, key, value, what):
    rows = config("c1", 0.1)
    path = baseline.save(write_run(tmp_path / "base", rows, env=GPU_ENV), "gpu", tmp_path / "b")
    base = baseline.load(path)
    env = {**GPU_ENV, key: value}
    with pytest.raises(gate.GateError, match=what + ".*--allow-env-change"):
        check(base, config("c1", 0.1, seed=5), env=env)
    res = check(base, config("c1", 0.1, seed=5), env=env, allow_env_change=True)
    assert res.exit_code == 0 and len(res.env_changes) == 1
    first = markdown.gate_summary(res, "b/gpu.json", "RUN", 0.05).splitlines()[0]
    assert first.startswith("**benchbench gate: PASS**") and "environment changed" in first and key.split("_")[0] in first.lower()


def test_same_driver_major_and_other_cpu_are_not_refused(tmp_path):
    base = baseline.load(baseline.save(write_run(tmp_path / "base", config("c1", 0.1), env=GPU_ENV), "g", tmp_path))
    res = check(base, config("c1", 0.1, seed=5), env={**GPU_ENV, "driver_version": "580.1.2", "cpu_model": "Intel"})
    assert res.exit_code == 0 and res.env_changes == []
    assert any("CPU model" in n for n in res.notes)


@pytest.mark.parametrize("run,message", [
    ({**RUN, "suite": "amp"}, "baseline of suite 'quickstart', the run is of suite 'amp'"),
    ({**RUN, "smoke": True}, "without --smoke and the run with"),
])
def test_baseline_from_another_suite_is_refused(base, run, message):
    with pytest.raises(gate.GateError, match=message):
        check(base, config("c1", 0.1), run=run)


def test_no_config_in_common_is_an_input_error(base):
    with pytest.raises(gate.GateError, match="no config of the run is in"):
        check(base, config("zz", 0.1))


def test_a_rule_on_a_metric_the_run_lacks_is_an_input_error(base):
    with pytest.raises(gate.GateError, match="peak_allocated_bytes.*baseline .*cpu-test.json.*no value.*peak_rss_bytes"):
        check(base, config("c1", 0.1), rules=[gate.parse_rule("peak_allocated_bytes:+3%")])


def test_changed_suite_file_is_a_note(base):
    res = check(base, [*config("c1", 0.1, seed=7), *config("c2", 0.1, attention="sdpa", seed=8)],
                run={**RUN, "suite_sha256": "def"})
    assert res.exit_code == 0 and any("suite file changed" in n for n in res.notes)


def test_markdown_verdict_first_then_regressions_then_collapsed_table(base):
    res = check(base, [*config("c1", 0.2, seed=7), row("c2", 0, status="oom", attention="sdpa")])
    md = markdown.gate_summary(res, "baselines/cpu-test.json", "results/x", 0.05)
    lines = md.splitlines()
    assert lines[0].startswith("**benchbench gate: FAIL** - 3 regressions (2 of 2 configs)")
    assert md.index("| rule | config |") < md.index("<details>") < md.index("attention=eager") + 10**6
    assert "ok -> oom" in md and re.search(r"\| -(49|50)\.\d% \|", md) and md.rstrip().endswith("</details>")


def test_a_run_far_noisier_than_its_baseline_is_inconclusive(tmp_path):
    quiet = [*config("c1", 0.100, repeat_spread=0.001), *config("c2", 0.100, attention="sdpa", seed=3, repeat_spread=0.001)]
    base = baseline.load(baseline.save(write_run(tmp_path / "base", quiet), "q", tmp_path / "b", ["tokens_per_s:-10%"]))
    noisy = [*config("c1", 0.150, seed=7, repeat_spread=0.2, repeats=5),
             *config("c2", 0.150, attention="sdpa", seed=8, repeat_spread=0.2, repeats=5)]
    res = check(base, noisy)
    assert res.exit_code == gate.EXIT_INCONCLUSIVE and "spread" in res.inconclusive and not len(res.regressions)
    t = res.tables["tokens_per_s:-10%"]
    assert not set(t["verdict"]) & {"faster", "slower"}
    md = markdown.gate_summary(res, "b.json", "run", 0.05)
    assert md.startswith("**benchbench gate: INCONCLUSIVE**")
    # a config that stopped running still fails, noise or not
    res = check(base, [*noisy[:5], row("c2", 0, status="oom", attention="sdpa")])
    assert res.exit_code == 1


def test_cpu_configs_run_beside_other_work_are_inconclusive(tmp_path):
    calm = {"load_avg_1m_start": 1.0, "usable_cores": 2, "device_type": "cpu"}
    busy = {"load_avg_1m_start": 3.2, "usable_cores": 2, "device_type": "cpu"}
    base = baseline.load(baseline.save(write_run(tmp_path / "base", config("c1", 0.1, **calm)), "q", tmp_path / "b",
                                       ["tokens_per_s:-10%"]))
    res = check(base, config("c1", 0.2, seed=5, **busy))              # 2x slower, every repeat alike
    assert res.exit_code == gate.EXIT_INCONCLUSIVE and "busy" in res.inconclusive
    assert check(base, config("c1", 0.2, seed=5, **calm)).exit_code == 1   # the same slowdown on a calm machine fails


def test_cpu_timings_of_another_host_are_inconclusive(tmp_path):
    env_base = {**CPU_ENV, "noise_start": {"cpu_reference_s": 0.020}, "noise_end": {"cpu_reference_s": 0.021}}
    rows = [{**r, "device_type": "cpu"} for r in config("c1", 0.1)]
    base = baseline.load(baseline.save(write_run(tmp_path / "base", rows, env=env_base), "q", tmp_path / "b",
                                       ["tokens_per_s:-10%"]))
    slow_host = {**CPU_ENV, "noise_start": {"cpu_reference_s": 0.041}}
    slower = [{**r, "device_type": "cpu"} for r in config("c1", 0.2, seed=4)]
    res = check(base, slower, env=slow_host)
    assert res.exit_code == gate.EXIT_INCONCLUSIVE and "reference workload" in res.inconclusive
    same_host = {**CPU_ENV, "noise_start": {"cpu_reference_s": 0.0205}}
    assert check(base, slower, env=same_host).exit_code == 1                    # the same host: a real slowdown
    assert gate.host_difference({"cpu_model": "A"}, {"cpu_model": "B"}).startswith("the CPU differs")
