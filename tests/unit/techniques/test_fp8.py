"""techniques/fp8.py: where fp8 cannot run (decided before launch), which Linear layers it converts, and
the recipe it passes to torchao (the conversion is real; fp8 matmuls need a GPU of capability 8.9+)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from benchbench import models, techniques
from benchbench.plan.feasibility import skip_reason
from benchbench.spec.config import RunConfig
from benchbench.techniques import fp8
from benchbench.worker import measure as worker
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
H100 = DeviceInfo("cuda", "NVIDIA H100 80GB HBM3", (9, 0), 1)
L40S = DeviceInfo("cuda", "NVIDIA L40S", (8, 9), 1)
A100 = DeviceInfo("cuda", "NVIDIA A100-SXM4-80GB", (8, 0), 1)
SMALL = {"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 16, "vocab_size": 64}


def test_where_fp8_cannot_run():
    assert skip_reason(RunConfig(precision="fp8"), CPU) == "fp8 training needs a CUDA GPU of compute capability 8.9+ (Ada/Hopper)"
    assert skip_reason(RunConfig(precision="fp8"), A100) == (
        "fp8 training needs a CUDA GPU of compute capability 8.9+ (Ada/Hopper); NVIDIA A100-SXM4-80GB has 8.0")
    assert skip_reason(RunConfig(precision="fp8", fp8_recipe="rowwise", engine="deepspeed"), H100).startswith(
        "engine=deepspeed with precision=fp8 is not supported here")
    assert skip_reason(RunConfig(precision="bf16", fp8_recipe="rowwise"), H100) == (
        "fp8_recipe is a setting of precision=fp8; precision=bf16")


def test_fp8_runs_on_ada_and_hopper_with_torchao(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "torchao" else real(name, *a))
    for dev in (H100, L40S):
        assert skip_reason(RunConfig(precision="fp8", fp8_recipe="rowwise_with_gw_hp"), dev) is None
        assert skip_reason(RunConfig(precision="fp8", engine="fsdp"), dev) is None


def test_torchao_missing_is_a_skip_with_the_install_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torchao" else real(name, *a))
    assert skip_reason(RunConfig(precision="fp8"), H100) == "precision=fp8 needs the package 'torchao' (pip install 'benchbench[fp8]')"


def test_bad_recipe_is_a_validation_error():
    with pytest.raises(ValueError, match="fp8_recipe"):
        RunConfig(precision="fp8", fp8_recipe="delayed")


def test_the_worker_skips_fp8_on_a_cpu():
    r = worker.run(RunConfig(precision="fp8", device="cpu", model_args=SMALL, collect=[]))
    assert r == {"status": "skipped", "reason": "fp8 training needs a CUDA GPU of compute capability 8.9+ (Ada/Hopper)"}


@pytest.mark.parametrize("module, fqn, expected", [
    (torch.nn.Linear(32, 96), "blocks.0.attn.qkv", True),
    (torch.nn.Linear(32, 64), "lm_head", False),          # the output head stays in bf16
    (torch.nn.Linear(32, 64), "output", False),
    (torch.nn.Linear(30, 64), "blocks.0.mlp.fc", False),  # not a multiple of 16
    (torch.nn.Linear(32, 40), "blocks.0.mlp.fc", False),
])
def test_which_linears_convert(module, fqn, expected):
    assert fp8.converts(module, fqn) is expected


@pytest.mark.parametrize("recipe", ["tensorwise", "rowwise", "rowwise_with_gw_hp"])
def test_conversion_counts_the_float8_linears_and_uses_the_recipe(recipe):
    pytest.importorskip("torchao")
    from torchao.float8 import Float8LinearConfig

    cfg = RunConfig(precision="fp8", fp8_recipe=recipe, model_args={**SMALL, "vocab_size": 48})
    torch.manual_seed(0)
    model = techniques.apply(models.build(cfg).model, cfg, CPU)
    # 2 blocks x (qkv, attention proj, mlp fc, mlp proj); the tied lm_head is left alone
    assert techniques.fields(model, cfg) == {"fp8_recipe": recipe, "float8_linears": 8}
    assert type(model.lm_head).__name__ == "Linear"
    assert model.blocks[0].mlp.fc.config == Float8LinearConfig.from_recipe_name(recipe)
    assert techniques.fields(model, cfg.model_copy(update={"precision": "bf16"})) == {}


def test_flash_attention_takes_fp8_and_fsdp_bf16_parameters():
    """Both give flash attention bf16 inputs: fp8 through bf16 autocast, FSDP2's bf16 policy by its cast."""
    from benchbench.techniques import attention

    assert attention.skip_reason(RunConfig(precision="fp8", attention="flash"), H100) is None
    assert attention.skip_reason(RunConfig(precision="fp32", attention="flash", engine="fsdp", fsdp_param_dtype="bf16"), H100) is None
    assert attention.skip_reason(RunConfig(precision="fp32", attention="flash", engine="fsdp"), H100).startswith("attention=flash needs")


def test_fp8_all_gather_is_a_setting_of_tensorwise_fp8_under_fsdp(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "torchao" else real(name, *a))
    ok = RunConfig(precision="fp8", engine="fsdp", fp8_fsdp_all_gather=True)
    assert skip_reason(ok, H100) is None
    for update in ({"engine": "torch"}, {"fp8_recipe": "rowwise"}, {"precision": "bf16"}):
        reason = skip_reason(ok.model_copy(update=update), H100)
        assert reason.startswith("fp8_fsdp_all_gather needs precision=fp8, fp8_recipe=tensorwise and engine=fsdp"), reason
    assert "fp8_fsdp_all_gather" not in RunConfig(precision="fp8").config_id  # off by default: ids unchanged


def test_fp8_all_gather_reaches_torchaos_config():
    pytest.importorskip("torchao")
    cfg = RunConfig(precision="fp8", engine="fsdp", fp8_fsdp_all_gather=True, model_args={**SMALL, "vocab_size": 48})
    torch.manual_seed(0)
    model = techniques.apply(models.build(cfg).model, cfg, CPU)
    assert model.blocks[0].mlp.fc.config.enable_fsdp_float8_all_gather is True
    assert techniques.fields(model, cfg)["fp8_fsdp_all_gather"] is True
    plain = techniques.apply(models.build(cfg.model_copy(update={"fp8_fsdp_all_gather": False})).model, cfg.model_copy(
        update={"fp8_fsdp_all_gather": False}), CPU)
    assert plain.blocks[0].mlp.fc.config.enable_fsdp_float8_all_gather is False
