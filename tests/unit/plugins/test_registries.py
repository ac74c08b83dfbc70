"""The toy package's plug-ins through every registry: a model, a technique, an engine, a collector and a
metric found by name beside the built-ins, the settings that name them validated against the installed
entry points, and a broken plug-in reported as a problem of the suite."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from benchbench import collectors, engines, models, techniques
from benchbench.plan import feasibility
from benchbench.spec import metrics, rules
from benchbench.spec.config import RunConfig, allowed_values
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test")
GPU = DeviceInfo("cuda", "test GPU", (9, 0), 1)


def test_a_plugin_model_is_found_and_built(toy):
    assert models.names()[-1] == "toy" and "toy" in models.registered()
    cfg = RunConfig(model="toy", model_size="small", model_args={"width": 16}, device="cpu")
    assert models.problems(cfg) == []
    assert models.build(cfg).model.blocks[0].out_features == 16
    assert models.problems(cfg.model_copy(update={"model_size": "huge"})) == [
        ("model_size", "unknown size 'huge' for model toy; allowed: tiny, small")]
    assert models.meta_model(cfg) is None  # built in workers only, like a user's module


def test_an_unknown_model_lists_the_plugins(toy):
    [(fld, msg)] = models.problems(RunConfig(model="toyz"))
    assert fld == "model" and "allowed: gpt, llama, vit, unet, toy, timm:<name>" in msg


def test_a_plugin_technique_runs_after_precision_and_before_compile(toy):
    cfg = RunConfig(model="toy", techniques=["toy_scale"], device="cpu")
    chain = techniques.chain(cfg)
    assert [m.__name__.rsplit(".", 1)[-1] for m in chain] == ["fp8", "attention", "checkpointing", "precision",
                                                              "technique", "compile"]
    assert techniques.chain(RunConfig()) == techniques.ORDER
    model = techniques.apply(models.build(cfg).model, cfg, CPU)
    model(torch.zeros(2, 4), torch.zeros(2, 4))
    assert model.toy_forward_calls_n == 1
    assert techniques.fields(model, cfg)["toy_scale_applied"] is True
    assert feasibility.skip_reason(cfg, CPU) is None
    assert feasibility.skip_reason(cfg.model_copy(update={"device": "auto"}), GPU) == "toy_scale runs on the CPU only"


def test_a_plugin_engine_builds_and_says_what_it_cannot_run(toy):
    cfg = RunConfig(model="toy", engine="toy_engine", device="cpu")
    assert engines.names()[-1] == "toy_engine" and not engines.distributed(cfg)
    assert engines.skip_reason(cfg, CPU) is None
    assert engines.skip_reason(cfg.model_copy(update={"grad_clip": 1.0}), CPU) == "toy_engine takes no gradient clipping"
    assert "needs a distributed engine" in engines.skip_reason(cfg.model_copy(update={"world_size": 2}), CPU)
    built = models.build(cfg)
    engine = engines.build(cfg, built.model, lambda m: torch.optim.SGD(m.parameters(), lr=0.1), CPU)
    engine.step([built.make_batch(2, torch.Generator().manual_seed(0), torch.device("cpu"))])
    assert type(engine).__name__ == "ToyEngine" and engine.fields()["toy_engine_steps_n"] == 1


def test_a_plugin_collector_is_built_by_name(toy):
    cfg = RunConfig(collect=["memory", "toy_counter"])
    assert [type(c).__name__ for c in collectors.build(cfg, collectors.Context(cfg, None, CPU))] == ["Memory", "ToyCounter"]


def test_a_plugin_metric_says_its_direction_and_that_it_is_deterministic(toy):
    assert not metrics.higher_is_better("toy_forward_calls_n") and metrics.is_deterministic("toy_forward_calls_n")
    assert rules.parse_rule("toy_forward_calls_n:5%").higher_is_better is False  # no sign needed
    assert metrics.higher_is_better("tokens_per_s") and metrics.declared("tokens_per_s") is None


def test_settings_take_the_plugins_names(toy):
    cfg = RunConfig(engine="toy_engine", collect=["toy_counter", "memory"], techniques=["toy_scale"])
    assert cfg.collect == ["toy_counter", "memory"]
    assert cfg.flat()["techniques"] == "toy_scale" and cfg.flat()["collect"] == "toy_counter,memory"
    assert cfg.config_id != RunConfig(engine="toy_engine", collect=["toy_counter", "memory"]).config_id
    assert allowed_values("engine") == ("torch", "ddp", "fsdp", "deepspeed", "toy_engine")
    with pytest.raises(ValidationError) as e:
        RunConfig(collect=["toy_counter", "bogus"])
    assert e.value.errors()[0]["loc"] == ("collect", 1)
    with pytest.raises(ValidationError, match="unknown technique 'nope'; plug-in techniques installed: toy_scale"):
        RunConfig(techniques=["toy_scale", "nope"])


def test_without_the_package_its_names_are_refused():
    from benchbench import plugins

    plugins.reset()
    with pytest.raises(ValidationError, match="literal_error|Input should be"):
        RunConfig(engine="toy_engine")
    with pytest.raises(ValidationError, match="plug-in techniques installed: none"):
        RunConfig(techniques=["toy_scale"])
    assert RunConfig().flat()["techniques"] == ""


def test_a_broken_plugin_is_a_problem_of_the_setting_that_names_it(package):
    package("brokenbench", """
        [benchbench.engines]
        fast = brokenbench_engine:Fast
        [benchbench.models]
        vit = brokenbench_engine
        """, {"brokenbench_engine": "raise RuntimeError('no licence')\n"})
    with pytest.raises(ValidationError, match=r"plug-in 'fast' cannot be imported: RuntimeError: no licence .*"
                                              r"distribution brokenbench 0.1"):
        RunConfig(engine="fast")
    [(fld, msg)] = models.problems(RunConfig(model="gpt"))
    assert fld == "model" and "clashes with the built-in model 'vit'" in msg
