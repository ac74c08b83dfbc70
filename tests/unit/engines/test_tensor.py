"""Tensor parallelism on a CPU (gloo): 2 ranks under torchrun, through launch.run, against one process
with the same (untied) weights and the same data."""

from __future__ import annotations

import pytest

from benchbench.plan.feasibility import skip_reason
from benchbench.spec.config import RunConfig
from benchbench.sweep import launch
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
SHAPE = {"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 32, "vocab_size": 64}
# tie_weights 0: TP unties the head from the token embedding, so the reference does too
GPT = dict(model_args={**SHAPE, "tie_weights": 0}, device="cpu", batch_size=4, warmup_steps=1, measured_steps=2,
           timeout_s=120, collect=["memory"])


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    d = tmp_path_factory.mktemp("tp")
    configs = {
        "one": RunConfig(**GPT),
        "tp2": RunConfig(**GPT, tp_size=2, world_size=2),
        # with checkpointing: the plans reach the blocks inside its wrappers
        "tp2sp": RunConfig(**GPT, tp_size=2, world_size=2, sequence_parallel=True, checkpointing="sqrt"),
        # 2-D: 2 data-parallel replicas of 2 TP ranks = DDP over 2 ranks (rank 0 reports replica 0's loss)
        "ddp2": RunConfig(**GPT, engine="ddp", world_size=2),
        "fsdp2x2": RunConfig(**GPT, engine="fsdp", tp_size=2, world_size=4),
    }
    return {name: launch.run(cfg, d, 0) for name, cfg in configs.items()}


def test_tensor_parallel_trains_as_one_process(rows):
    for name, r in rows.items():
        assert r["status"] == "ok", (name, r.get("reason"), r.get("traceback_tail"), r.get("log_tail"))
    for name in ("tp2", "tp2sp"):  # loss after 3 optimizer steps: the gradients matched too
        assert rows[name]["loss_last"] == pytest.approx(rows["one"]["loss_last"], rel=1e-5), name
    assert rows["fsdp2x2"]["loss_last"] == pytest.approx(rows["ddp2"]["loss_last"], rel=1e-5)
    assert rows["fsdp2x2"]["samples_per_step"] == rows["ddp2"]["samples_per_step"] == 8  # 2 replicas x 4
    # sharded 2 ways by TP, then 2 ways by FSDP
    assert len(rows["fsdp2x2"]["params_bytes_per_rank"]) == 4
    assert rows["fsdp2x2"]["params_bytes"] < 0.3 * rows["ddp2"]["params_bytes"]


def test_tensor_parallel_shards_the_weights_and_counts_the_batch_once(rows):
    one, tp = rows["one"], rows["tp2"]
    assert tp["samples_per_step"] == one["samples_per_step"] == 4  # both ranks trained on the same 4 samples
    # everything but the norms and the position embedding is split in two
    assert 0.5 * one["params_bytes"] < tp["params_bytes_per_rank"][0] < 0.7 * one["params_bytes"]


@pytest.mark.parametrize("settings, expected", [
    ({"engine": "ddp", "tp_size": 2, "world_size": 2}, "tp_size=2 with engine=ddp is not supported here"),
    ({"tp_size": 2, "world_size": 4}, "engine=torch with tp_size=2 is pure tensor parallelism: world_size must be 2"),
    ({"tp_size": 4, "world_size": 4, "model_args": {"n_head": 2}}, "n_head=2 is not divisible by tp_size=4"),
    ({"tp_size": 2, "world_size": 3, "engine": "fsdp"}, "world_size=3 is not a multiple of tp_size x pp_size"),
    ({"tp_size": 4, "world_size": 4, "model": "llama"}, "n_kv_head=2 is not divisible by tp_size=4"),
    ({"sequence_parallel": True}, "sequence_parallel needs tp_size > 1"),
    ({"tp_size": 2, "world_size": 2, "model": "vit"}, "model vit has no tp_plan hook"),
    ({"tp_size": 2, "world_size": 2, "compile": "default"}, "tp_size=2 with compile=default is not supported here"),
])
def test_impossible_tensor_parallel_configs_are_skipped_before_launch(settings, expected):
    assert (skip_reason(RunConfig(**settings), CPU) or "").startswith(expected)


def test_possible_ones_are_not():
    assert skip_reason(RunConfig(engine="fsdp", tp_size=2, world_size=4), CPU) is None
    assert skip_reason(RunConfig(tp_size=2, world_size=2, sequence_parallel=True), CPU) is None


def test_a_users_model_is_checked_in_the_worker_not_built_in_the_parent():
    import torch

    from benchbench import engines

    cfg = RunConfig(model="py:tests.fixtures.faulty_model", model_size="ok", tp_size=2, world_size=2)
    assert skip_reason(cfg, CPU) is None  # its code runs in workers only
    assert engines.model_reason(cfg, torch.nn.Linear(2, 2)) == (
        "model py:tests.fixtures.faulty_model has no tp_plan hook: tp_size > 1 cannot shard it")
