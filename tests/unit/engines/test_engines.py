"""Distributed engines on a CPU (gloo): DDP and FSDP2 under torchrun with 2 ranks, through launch.run."""

from __future__ import annotations

import contextlib

import pytest
import torch

from benchbench.plan.feasibility import skip_reason
from benchbench.spec.config import RunConfig
from benchbench.sweep import launch, ranks
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
GPT = dict(model_args={"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 32, "vocab_size": 64}, device="cpu",
           batch_size=2, warmup_steps=1, measured_steps=3, timeout_s=120, collect=["memory"])


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    d = tmp_path_factory.mktemp("dist")
    configs = {
        "torch1": RunConfig(**GPT),
        "ddp1": RunConfig(**GPT, engine="ddp"),
        "ddp2": RunConfig(**GPT, engine="ddp", world_size=2),
        "fsdp2": RunConfig(**GPT, engine="fsdp", world_size=2),
        "ddp2acc": RunConfig(**GPT, engine="ddp", world_size=2, grad_accum=2),
        "fsdp2acc": RunConfig(**GPT, engine="fsdp", world_size=2, grad_accum=2),
        "fsdp2keep": RunConfig(**GPT, engine="fsdp", world_size=2, fsdp_reshard_after_forward=False),
        "ddp2bf16": RunConfig(**GPT, engine="ddp", world_size=2, precision="bf16"),
        "fsdp2bf16": RunConfig(**GPT, engine="fsdp", world_size=2, precision="bf16"),
        "fsdp2autocast": RunConfig(**GPT, engine="fsdp", world_size=2, precision="bf16", fsdp_param_dtype="fp32"),
    }
    return {name: launch.run(cfg, d, 0) for name, cfg in configs.items()}


def test_every_engine_trains(rows):
    for name, r in rows.items():
        assert r["status"] == "ok", (name, r.get("reason"), r.get("log_tail"))


def test_engines_do_not_change_the_math(rows):
    """One rank: DDP = the plain loop. Two ranks: DDP = FSDP (same seed, same data per rank)."""
    assert rows["ddp1"]["loss_last"] == pytest.approx(rows["torch1"]["loss_last"], rel=1e-6)
    assert rows["fsdp2"]["loss_last"] == pytest.approx(rows["ddp2"]["loss_last"], rel=1e-5)
    assert rows["fsdp2acc"]["loss_last"] == pytest.approx(rows["ddp2acc"]["loss_last"], rel=1e-5)
    assert rows["ddp2"]["loss_last"] != pytest.approx(rows["torch1"]["loss_last"], rel=1e-6)  # rank 1 saw other data


def test_fsdp_bf16_policy_trains_like_bf16_autocast(rows):
    """precision bf16 under fsdp: FSDP2 casts the parameters to bf16 (no autocast), fp32 master weights.
    Against DDP under bf16 autocast (same data, same ranks) the loss after 4 steps differs by where bf16
    rounds: the policy computes layer norms and the loss in bf16, so its loss is itself a bf16 number
    (8 significant bits: at ~4.1 the spacing is 2^-5, up to 0.4% off by rounding alone). Measured here:
    3.6e-4 apart; 1e-2 is that rounding's bound twice over, far below a broken step's change."""
    bf16, ddp = rows["fsdp2bf16"]["loss_last"], rows["ddp2bf16"]["loss_last"]
    assert bf16 == pytest.approx(ddp, rel=1e-2)
    assert torch.tensor(bf16).bfloat16().item() == bf16  # computed in bf16: the policy took effect
    assert torch.tensor(ddp).bfloat16().item() != ddp    # autocast: the loss in fp32
    # fp32 parameters keep the bf16 autocast: then fsdp is ddp's math exactly
    assert rows["fsdp2autocast"]["loss_last"] == pytest.approx(ddp, rel=1e-5)
    assert rows["fsdp2bf16"]["fsdp_mp_policy"] == "param=bf16,reduce=fp32,reshard=true"
    assert rows["fsdp2autocast"]["fsdp_mp_policy"] == "param=fp32,reduce=fp32,reshard=true"
    assert "fsdp_mp_policy" not in rows["ddp2bf16"]


def test_keeping_parameters_after_forward_does_not_change_the_math(rows):
    assert rows["fsdp2keep"]["fsdp_mp_policy"] == "param=fp32,reduce=fp32,reshard=false"
    assert rows["fsdp2keep"]["loss_last"] == pytest.approx(rows["fsdp2"]["loss_last"], rel=1e-6)


def test_rows_report_every_rank(rows):
    ddp, fsdp = rows["ddp2"], rows["fsdp2"]
    assert ddp["ranks"] == 2 and len(ddp["peak_rss_bytes_per_rank"]) == 2
    assert ddp["samples_per_step"] == fsdp["samples_per_step"] == 2 * 2  # micro-batch 2 on each of 2 ranks
    # FSDP shards parameters and optimizer state over the 2 ranks; DDP replicates them
    assert fsdp["params_bytes_per_rank"][0] == ddp["params_bytes_per_rank"][0] // 2
    assert fsdp["optimizer_state_bytes"] == ddp["optimizer_state_bytes"] // 2
    assert ddp["step_time_s_median"] >= max(ddp["step_time_s_median_per_rank"]) * 0.999  # the slowest rank


@pytest.mark.parametrize("size, status, reason", [
    ("rank1-raise", "error", "rank 1: faulty_model: rank 1 raises on purpose"),
    ("rank1-kill", "killed", "rank 1: exitcode -9 (pid: "),
])
def test_one_rank_failing_fails_the_config_cleanly(tmp_path, size, status, reason):
    cfg = RunConfig(model="py:tests.fixtures.faulty_model", model_size=size, device="cpu", engine="ddp", world_size=2,
                    warmup_steps=1, measured_steps=2, timeout_s=90, collect=["memory"])
    r = launch.run(cfg, tmp_path, 0)
    assert r["status"] == status and r["reason"].startswith(reason), r
    assert r["wall_s"] < 80  # torchrun ended the other rank; no hung sweep


def test_merge_takes_the_slowest_rank_per_step():
    base = dict(status="ok", samples_per_step=4, model_flops_per_step=1e12, peak_tflops=None, tokens_per_step=64)
    a = {**base, "step_times_s": [1.0, 3.0], "peak_allocated_bytes": 10}
    b = {**base, "step_times_s": [2.0, 1.0], "peak_allocated_bytes": 30}
    m = ranks.merge([a, b], 2)
    assert m["step_times_s"] == [2.0, 3.0] and m["samples_per_s"] == pytest.approx(4 / 2.5)
    assert m["peak_allocated_bytes"] == 30 and m["peak_allocated_bytes_rank_mean"] == 20
    assert ranks.merge([a, None], 2)["reason"] == "no result from rank(s) [1] of 2"


@pytest.mark.parametrize("settings, expected", [
    ({"zero_stage": 2}, "zero_stage / offload are DeepSpeed settings; engine=torch"),
    ({"engine": "fsdp", "precision": "fp16"}, "engine=fsdp with precision=fp16 is not supported here"),
    ({"world_size": 2}, "world_size=2 needs a distributed engine"),
    ({"fsdp_reduce_dtype": "bf16"}, "fsdp_reduce_dtype is an FSDP setting; engine=torch"),
    ({"engine": "ddp", "fsdp_param_dtype": "bf16", "fsdp_reshard_after_forward": False},
     "fsdp_param_dtype / fsdp_reshard_after_forward are FSDP settings; engine=ddp"),
    ({"engine": "fsdp", "precision": "bf16-pure"}, "engine=fsdp with precision=bf16-pure is not supported here; use bf16"),
    ({"engine": "deepspeed", "precision": "fp8"}, "engine=deepspeed with precision=fp8 is not supported here"),
])
def test_engine_skip_reasons(settings, expected):
    assert skip_reason(RunConfig(**settings), CPU).startswith(expected)


@pytest.mark.parametrize("settings", [{"fsdp_param_dtype": "fp16"}, {"fsdp_reduce_dtype": None},
                                      {"fsdp_reduce_dtype": "bf32"}, {"fsdp_reshard_after_forward": "yes"}])
def test_fsdp_settings_reject_bad_values(settings):
    with pytest.raises(ValueError, match=next(iter(settings))):
        RunConfig(engine="fsdp", **settings)


def test_fsdp_settings_at_their_defaults_are_fine_anywhere():
    assert skip_reason(RunConfig(engine="fsdp", fsdp_reduce_dtype="bf16", fsdp_param_dtype="bf16"), CPU) is None
    assert skip_reason(RunConfig(engine="ddp", fsdp_reduce_dtype="fp32", fsdp_reshard_after_forward=True), CPU) is None


def test_fsdp_policy_names_and_autocast():
    from benchbench.engines import fsdp
    from benchbench.techniques import precision

    assert fsdp.policy(RunConfig(engine="fsdp", precision="fp8")) == "param=bf16,reduce=fp32,reshard=true"
    assert fsdp.policy(RunConfig(engine="fsdp", precision="bf16", fsdp_param_dtype="fp32", fsdp_reduce_dtype="bf16",
                                 fsdp_reshard_after_forward=False)) == "param=fp32,reduce=bf16,reshard=false"
    # FSDP2 casts the parameters: no autocast on top; with fp32 parameters the bf16 autocast stays
    assert precision.autocast(RunConfig(engine="fsdp", precision="bf16"), CPU) is contextlib.nullcontext
    assert precision.autocast(RunConfig(engine="fsdp", precision="bf16", fsdp_param_dtype="fp32"), CPU) is not contextlib.nullcontext
    assert precision.autocast(RunConfig(engine="ddp", precision="bf16"), CPU) is not contextlib.nullcontext


def test_more_ranks_than_gpus_is_a_skip_before_launch():
    one_gpu = DeviceInfo("cuda", "NVIDIA H100 80GB HBM3", (9, 0), 1)
    assert skip_reason(RunConfig(engine="ddp", world_size=2), one_gpu) == (
        "world_size=2 over nnodes=1 needs 2 GPUs per machine; this one has 1")
    assert skip_reason(RunConfig(engine="ddp", world_size=2, nnodes=2), one_gpu) is None
    assert skip_reason(RunConfig(engine="ddp", world_size=3, nnodes=2), one_gpu) == (
        "world_size=3 cannot be spread evenly over nnodes=2")
    assert skip_reason(RunConfig(engine="ddp", world_size=2), CPU) is None  # CPU ranks are processes


def test_deepspeed_missing_is_a_skip_with_the_install_hint(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "deepspeed" else real(name, *a))
    assert skip_reason(RunConfig(engine="deepspeed", zero_stage=2), CPU) == (
        "engine=deepspeed needs the package 'deepspeed' (pip install 'benchbench[deepspeed]')")


def test_merge_reports_every_gpu_and_totals():
    base = dict(status="ok", samples_per_step=4, model_flops_per_step=1e12, peak_tflops=989.0, step_times_s=[1.0])
    a = {**base, "gpu_util_pct_mean": 98.0, "power_w_mean": 500.0, "energy_j": 400.0, "throttled": "power"}
    b = {**base, "gpu_util_pct_mean": 80.0, "power_w_mean": 450.0, "energy_j": 380.0, "throttled": ""}
    m = ranks.merge([a, b], 2)
    assert m["gpu_util_pct_mean"] == 80.0 and m["gpu_util_pct_mean_per_rank"] == [98.0, 80.0]
    assert m["power_w_mean"] == 500.0 and m["power_w_mean_total"] == 950.0
    assert m["energy_j"] == 780.0 and m["energy_j_per_rank"] == [400.0, 380.0] and m["energy_j_per_step"] == 780.0
    assert m["throttled"] == "power"
    assert m["mfu"] == pytest.approx(1.0 / 2 / 989.0)  # 1 TFLOP per 1 s step over 2 GPUs
