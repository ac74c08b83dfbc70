"""DeepSpeed ZeRO 0-3 on a CPU (gloo), 1 and 2 ranks under torchrun: ZeRO must not change the
math, and each rank's optimizer state must shrink as the ZeRO paper says."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("deepspeed")

from benchbench.engines import deepspeed_engine  # noqa: E402
from benchbench.spec.config import RunConfig  # noqa: E402
from benchbench.sweep import launch  # noqa: E402
from benchbench.worker.device import DeviceInfo  # noqa: E402

GPT = dict(model_args={"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 32, "vocab_size": 64}, device="cpu",
           engine="deepspeed", batch_size=2, warmup_steps=1, measured_steps=2, timeout_s=240, collect=["memory"])


@pytest.fixture(scope="module")
def rows(tmp_path_factory, monkeypatch_module):
    d = tmp_path_factory.mktemp("ds")
    return {(stage, ws): launch.run(RunConfig(**GPT, zero_stage=stage, world_size=ws), d, 0)
            for ws in (1, 2) for stage in (0, 1, 2, 3)}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DS_ACCELERATOR", "cpu")
        yield mp


def test_every_stage_trains(rows):
    for key, r in rows.items():
        assert r["status"] == "ok", (key, r.get("reason"), r.get("log_tail"))


def test_zero_does_not_change_the_math(rows):
    for ws in (1, 2):
        losses = [rows[(stage, ws)]["loss_last"] for stage in (0, 1, 2, 3)]
        assert max(losses) - min(losses) < 1e-5, losses


def test_optimizer_state_shrinks_with_the_ranks(rows):
    one = rows[(0, 1)]["zero_optimizer_state_bytes"]
    for stage in (1, 2, 3):
        per_rank = rows[(stage, 2)]["zero_optimizer_state_bytes_per_rank"]
        assert len(per_rank) == 2 and all(b == pytest.approx(rows[(stage, 1)]["zero_optimizer_state_bytes"] / 2, rel=0.02)
                                          for b in per_rank), (stage, per_rank)
    assert rows[(0, 2)]["zero_optimizer_state_bytes"] == one  # stage 0 replicates
    # ZeRO-3 also partitions the parameters
    assert rows[(3, 2)]["zero_params_bytes"] == pytest.approx(rows[(3, 1)]["zero_params_bytes"] / 2, rel=0.02)
    assert rows[(2, 2)]["zero_params_bytes"] == rows[(2, 1)]["zero_params_bytes"]


def test_memory_breakdown_by_role(rows):
    """fp32 (no mixed precision): 4 bytes of parameters and 4 of gradients per parameter on every rank
    that holds them whole, Adam's two moments (8) - and DeepSpeed's ZeRO optimizer an fp32 master
    copy (4) besides, partitioned with the moments."""
    for (stage, ws), r in rows.items():
        psi = r["n_params"]
        held = {k: r[f"zero_{k}_bytes"] / psi for k in ("params", "grads", "optimizer_state")}
        assert r["zero_model_states_bytes"] == sum(r[f"zero_{k}_bytes"] for k in ("params", "grads", "optimizer_state"))
        params = 4 / ws if stage == 3 else 4
        optim = 8 if stage == 0 else 12 / ws
        assert held["params"] == pytest.approx(params, rel=0.05), (stage, ws, held)
        assert held["optimizer_state"] == pytest.approx(optim, rel=0.05), (stage, ws, held)
        assert 4 / ws * 0.95 <= held["grads"] <= 4.05 if stage else held["grads"] == pytest.approx(4, rel=0.05), (stage, ws, held)
    # ZeRO-3's reduce bucket is allocated whole: reduce_bucket_size elements (default 5e8) of fp32
    assert rows[(3, 1)]["zero_buffers_bytes"] >= 4 * rows[(3, 1)]["ds_reduce_bucket_size"]
    assert "ipg" in rows[(3, 1)]["zero_largest_held"]


def test_fp32_gradient_accumulation_is_counted(tmp_path):
    """bf16 with grad_accum_dtype=fp32 (DeepSpeed's BF16_Optimizer): fp32 gradients next to the bf16
    ones, 6 bytes per parameter instead of 2: the memory the ZeRO paper's 2-byte gradients miss."""
    cfg = RunConfig(**GPT, zero_stage=1, precision="bf16", grad_accum_dtype="fp32")
    r = launch.run(cfg, tmp_path, 0)
    assert r["status"] == "ok", r.get("reason")
    assert r["ds_optimizer_class"] == "BF16_Optimizer" and r["ds_grad_accum_dtype"] == "float32"
    assert r["zero_grads_bytes"] / r["n_params"] == pytest.approx(6, rel=0.02)
    assert r["zero_model_states_bytes"] / r["predicted_model_state_bytes"] == pytest.approx(20 / 16, rel=0.02)


def test_rows_carry_the_prediction_and_the_settings(rows, tmp_path):
    r = rows[(2, 2)]
    psi = r["n_params"]  # fp32 training: 4 + 12/N bytes per parameter at stage 2
    assert r["predicted_model_state_bytes"] == pytest.approx(4 * psi + 12 * psi / 2)
    assert r["ds_reduce_bucket_size"] > 0 and r["ds_contiguous_gradients"] in (True, False)


def test_the_generated_config_is_stored(tmp_path):
    cfg = RunConfig(**GPT, zero_stage=3, stage3_max_live_parameters=10**6, grad_clip=1.0, grad_accum=2)
    r = launch.run(cfg, tmp_path, 0)
    assert r["status"] == "ok", r.get("reason")
    stored = json.loads((tmp_path / "artifacts" / f"{cfg.config_id}-r0" / "deepspeed_config.json").read_text())
    assert stored["zero_optimization"] == {"stage": 3, "stage3_max_live_parameters": 10**6}
    assert stored["gradient_accumulation_steps"] == 2 and stored["gradient_clipping"] == 1.0
    assert r["ds_stage3_max_live_parameters"] == 10**6


CPU = DeviceInfo("cpu", "x")


@pytest.mark.parametrize("settings, expected", [
    ({"precision": "tf32"}, "engine=deepspeed maps precision"),
    ({"precision": "fp16"}, "engine=deepspeed with fp16 needs a GPU"),
    ({"offload_param": True, "zero_stage": 2}, "offload_param needs zero_stage=3"),
    ({"ds_optimizer": "fused_adam"}, "ds_optimizer=fused_adam is a CUDA kernel"),
    ({"grad_accum_dtype": "bf16"}, "grad_accum_dtype=bf16 with precision=fp32"),
    ({"precision": "bf16", "grad_accum_dtype": "fp32"}, "grad_accum_dtype=fp32 with precision=bf16 needs zero_stage >= 1"),
    ({"zero_stage": 2, "offload_optimizer": True}, "offload with a client (torch) optimizer is refused"),
])
def test_skip_reasons(settings, expected):
    assert deepspeed_engine.skip_reason(RunConfig(engine="deepspeed", **settings), CPU).startswith(expected)


def test_paper_formulas():
    f = deepspeed_engine.predicted_model_state_bytes
    assert [f(100, 4, s, True) for s in range(4)] == [1600, 400 + 300, 200 + 350, 400]
