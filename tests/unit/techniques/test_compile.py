"""compile_scope: what is compiled (the whole model, or each block in its place), what is skipped and why,
what the row says."""

from __future__ import annotations

import pytest
import torch

from benchbench import models, techniques
from benchbench.collectors.flops import Flops
from benchbench.plan import feasibility
from benchbench.spec.config import RunConfig
from benchbench.techniques import compile as compile_technique
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
SMALL = {"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 16, "vocab_size": 64}


def cfg(**kw) -> RunConfig:
    return RunConfig(model_args=SMALL, **kw)


@pytest.mark.parametrize("settings, scope", [
    ({"compile": "default"}, "model"),
    ({"compile": "default", "engine": "fsdp"}, "blocks"),
    ({"compile": "default", "engine": "fsdp", "compile_scope": "model"}, "model"),
    ({"compile": "default", "compile_scope": "blocks"}, "blocks"),
])
def test_auto_scope_is_blocks_under_fsdp_only(settings, scope):
    assert compile_technique.scope(cfg(**settings)) == scope


def test_blocks_scope_compiles_each_block_in_its_place():
    c = cfg(compile="default", compile_scope="blocks")
    model = techniques.apply(models.build(c).model, c, CPU)
    assert not isinstance(model, torch._dynamo.eval_frame.OptimizedModule)  # the model itself stays eager
    assert all(isinstance(b, torch._dynamo.eval_frame.OptimizedModule) for b in model.blocks)
    assert techniques.fields(model, c) == {"compile_scope_used": "blocks"}


def test_model_scope_compiles_the_whole_model():
    c = cfg(compile="default")
    model = techniques.apply(models.build(c).model, c, CPU)
    assert isinstance(model, torch._dynamo.eval_frame.OptimizedModule)
    assert not any(isinstance(b, torch._dynamo.eval_frame.OptimizedModule) for b in model._orig_mod.blocks)
    assert techniques.fields(model, c) == {"compile_scope_used": "model"}


def test_compile_off_reports_no_scope():
    c = cfg()
    assert techniques.fields(techniques.apply(models.build(c).model, c, CPU), c) == {}


@pytest.mark.parametrize("settings, expected", [
    ({"compile_scope": "blocks"}, "compile_scope=blocks is a compile setting; compile=off"),
    ({"compile_scope": "model"}, "compile_scope=model is a compile setting; compile=off"),
])
def test_skip_reasons(settings, expected):
    c = RunConfig(**{"model_args": SMALL, **settings})
    assert feasibility.skip_reason(c, CPU) == expected


def test_a_user_model_without_blocks_is_refused_once_built():
    c = cfg(compile="default", compile_scope="blocks")
    assert techniques.model_reason(c, torch.nn.Linear(2, 2)) == (
        "compile_scope=blocks needs a model with a `blocks` (or `layers`) module list; gpt has none")
    assert techniques.model_reason(c, models.build(c).model) is None


def test_flops_are_counted_through_compiled_blocks():
    """FlopCounterMode sees every op of a compiled block (it runs eager under the counter): the count
    equals the uncompiled model's."""
    counts = []
    for settings in ({}, {"compile": "default", "compile_scope": "blocks"}):
        c = cfg(**settings)
        torch.manual_seed(0)
        built = models.build(c)
        model = techniques.apply(built.model, c, CPU)
        batches = [built.make_batch(2, torch.Generator().manual_seed(0), torch.device("cpu"))]
        engine = type("E", (), {"autocast": staticmethod(lambda: torch.autocast("cpu", enabled=False))})()
        ctx = type("Ctx", (), {"model": model, "cfg": c, "batches": batches, "engine": engine, "dev": torch.device("cpu")})()
        f = Flops(ctx)
        f.after()
        counts.append(f.fields()["hardware_flops_per_step"])
    assert counts[0] > 0 and counts[0] == counts[1]
