"""batch_size: max: the pre-pass on fake probes (a batch runs when it is <= a limit), no worker started."""

import pytest

from benchbench.spec.config import RunConfig
from benchbench.store import results
from benchbench.sweep import autobatch

RUN = {"run_id": "r1", "suite": "s"}


class FakeDevice:
    def __init__(self, limit):
        self.limit, self.probed = limit, []

    def __call__(self, cfg, probe_dir):
        self.probed.append(cfg.batch_size)
        if cfg.batch_size > self.limit:
            return {"status": "oom", "reason": "out of memory"}
        return {"status": "ok", "tokens_per_s": 100.0 * cfg.batch_size}


def _cpu(cfg):
    return "cpu", None


def _run_dir(tmp_path, configs):
    run = {**RUN, "config_ids": [c.config_id for c in configs], "baseline_config_id": configs[0].config_id}
    results.write_json(tmp_path / "run.json", run)
    return run


def test_max_configs_get_the_largest_batch_that_runs(tmp_path):
    configs = [RunConfig(batch_size="max", device="cpu"), RunConfig(batch_size=4, device="cpu", attention="eager")]
    run = _run_dir(tmp_path, configs)
    fake = FakeDevice(limit=12)
    out = autobatch.apply(configs, tmp_path, run, run_config=fake, device_of=_cpu)
    assert [c.batch_size for c in out] == [12, 4]
    assert out[1] is configs[1]
    assert fake.probed == [1, 2, 4, 8, 16, 12, 14, 13]  # double, then bisect
    rows = results.read_rows(tmp_path / autobatch.DIR)  # every probe a row, apart from the measured rows
    assert [r["batch_size"] for r in rows] == fake.probed
    assert {r["maxbatch_of"] for r in rows} == {configs[0].config_id}
    assert not (tmp_path / results.ROWS).exists()
    saved = results.read_json(tmp_path / "run.json")  # the run names the resolved configs
    assert saved["baseline_config_id"] == out[0].config_id
    assert saved["config_ids"] == [out[0].config_id, configs[1].config_id]
    assert results.read_json(tmp_path / autobatch.ANSWERS)[configs[0].config_id]["max_batch"] == 12


def test_resume_reuses_answers_and_recorded_probes(tmp_path):
    cfg = RunConfig(batch_size="max", device="cpu")
    run = _run_dir(tmp_path, [cfg])
    first = FakeDevice(limit=5)
    autobatch.resolve([cfg], tmp_path, run, run_config=first, device_of=_cpu)
    again = FakeDevice(limit=5)
    [out], _ = autobatch.resolve([cfg], tmp_path, run, run_config=again, device_of=_cpu)
    assert out.batch_size == 5 and again.probed == []  # the answer was stored
    (tmp_path / autobatch.ANSWERS).unlink()  # a search cut short: its probes are rows already
    [out], _ = autobatch.resolve([cfg], tmp_path, run, run_config=again, device_of=_cpu)
    assert out.batch_size == 5 and again.probed == []


def test_a_config_that_never_runs_is_measured_at_batch_1(tmp_path):
    cfg = RunConfig(batch_size="max", device="cpu")
    [out], _ = autobatch.resolve([cfg], tmp_path, _run_dir(tmp_path, [cfg]), run_config=FakeDevice(limit=0), device_of=_cpu)
    assert out.batch_size == 1


def test_cap_and_no_max_configs(tmp_path):
    cfg = RunConfig(batch_size="max", device="cpu")
    [out], _ = autobatch.resolve([cfg], tmp_path, _run_dir(tmp_path, [cfg]), run_config=FakeDevice(limit=10**6),
                                 device_of=_cpu, cap=8)
    assert out.batch_size == 8
    plain = [RunConfig()]
    assert autobatch.resolve(plain, tmp_path / "x", RUN) == (plain, {})


def test_several_ranks_cannot_be_searched(tmp_path):
    with pytest.raises(autobatch.AutobatchError, match="world_size 1"):
        autobatch.resolve([RunConfig(batch_size="max", world_size=2, engine="ddp")], tmp_path, RUN)


def test_batch_size_accepts_max_and_positive_ints_only():
    assert RunConfig(batch_size="max").batch_size == "max"
    for bad in (0, "min", 2.5):
        with pytest.raises(ValueError):
            RunConfig(batch_size=bad)


def test_resolved_configs_have_their_own_ids_and_a_duplicate_is_measured_once(tmp_path):
    configs = [RunConfig(batch_size=12, device="cpu"), RunConfig(batch_size="max", device="cpu")]
    max_id = configs[1].config_id
    run = _run_dir(tmp_path, configs)
    out = autobatch.apply(configs, tmp_path, run, run_config=FakeDevice(limit=12), device_of=_cpu)
    assert out == [configs[0]]  # max found 12: the config the suite has already
    assert results.read_json(tmp_path / "run.json")["config_ids"] == [configs[0].config_id]
    rows = results.read_rows(tmp_path / autobatch.DIR)
    assert all(r["config_id"] != max_id and r["maxbatch_of"] == max_id for r in rows)
    assert {r["config_id"] for r in rows if r["batch_size"] == 12} == {configs[0].config_id}
