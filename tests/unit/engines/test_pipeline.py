"""Pipeline parallelism on a CPU (gloo): 2 stage ranks under torchrun, each schedule, through launch.run,
against one process with the same (untied) weights and the same data."""

from __future__ import annotations

import pytest

from benchbench.engines.pipeline import bubble_predicted
from benchbench.plan.feasibility import skip_reason
from benchbench.spec.config import RunConfig
from benchbench.sweep import launch
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
SHAPE = {"n_layer": 4, "n_embd": 32, "n_head": 2, "seq_len": 32, "vocab_size": 64}
GPT = dict(model_args={**SHAPE, "tie_weights": 0}, device="cpu", batch_size=4, warmup_steps=1, measured_steps=2,
           timeout_s=120, collect=["memory"])
PP = dict(GPT, pp_size=2, world_size=2, pp_microbatches=2)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    d = tmp_path_factory.mktemp("pp")
    configs = {"one": RunConfig(**GPT), **{s: RunConfig(**PP, pp_schedule=s) for s in ("gpipe", "1f1b", "interleaved_1f1b")}}
    return {name: launch.run(cfg, d, 0) for name, cfg in configs.items()}


def test_every_schedule_trains_as_one_process(rows):
    for name, r in rows.items():
        assert r["status"] == "ok", (name, r.get("reason"), r.get("traceback_tail"), r.get("log_tail"))
    for name in ("gpipe", "1f1b", "interleaved_1f1b"):  # the last stage's loss, broadcast to rank 0's row
        assert rows[name]["loss_last"] == pytest.approx(rows["one"]["loss_last"], rel=1e-5), name


def test_rows_carry_the_bubble_and_each_rank(rows):
    for name, v in (("gpipe", 1), ("1f1b", 1), ("interleaved_1f1b", 2)):
        r = rows[name]
        assert r["pp_bubble_predicted"] == pytest.approx(1 / (2 * v + 1))  # p = 2, m = 2
        assert len(r["pp_bubble_measured_per_rank"]) == 2 and 0 <= r["pp_bubble_measured"] <= 1
        assert len(r["peak_rss_bytes_per_rank"]) == 2 and r["samples_per_step"] == 4
    assert rows["interleaved_1f1b"]["pp_stage_ids_per_rank"] == [[0, 2], [1, 3]]
    assert rows["1f1b"]["pp_stage_ids_per_rank"] == [[0], [1]]
    assert rows["1f1b"]["params_bytes_per_rank"][0] < rows["one"]["params_bytes"]  # each rank holds its stage only


def test_bubble_formula():
    """Narayanan et al. 2021: (p-1)/(m+p-1); interleaved with v stages per rank: (p-1)/(v*m+p-1)."""
    assert bubble_predicted(4, 8) == pytest.approx(3 / 11)
    assert bubble_predicted(4, 8, 2) == pytest.approx(3 / 19)
    assert bubble_predicted(1, 8) == 0
    assert bubble_predicted(2, 1) == pytest.approx(1 / 2)


@pytest.mark.parametrize("settings, expected", [
    ({"pp_size": 2, "engine": "ddp"}, "pp_size=2 runs the pipeline engine: set engine: torch"),
    ({"pp_size": 2, "world_size": 4}, "pp_size=2 needs world_size=2"),
    ({"pp_size": 4, "world_size": 4, "model_args": {"n_layer": 2}}, "4 pipeline stages (4 ranks x 1) need at least as many blocks"),
    ({"pp_schedule": "interleaved_1f1b", "model_args": {"n_layer": 2}}, "4 pipeline stages (2 ranks x 2)"),
    ({"pp_schedule": "interleaved_1f1b", "pp_stages_per_rank": 1}, "pp_schedule=interleaved_1f1b needs pp_stages_per_rank >= 2"),
    ({"pp_schedule": "gpipe", "pp_stages_per_rank": 2}, "pp_stages_per_rank=2 needs pp_schedule=interleaved_1f1b"),
    ({"pp_microbatches": 3}, "pp_microbatches=3 does not divide batch_size=8"),
    ({"pp_microbatches": 1}, "pp_schedule=1f1b needs pp_microbatches >= pp_size (1 < 2)"),
    ({"grad_accum": 2}, "pp_size=2 with grad_accum=2 (raise pp_microbatches instead) is not supported here"),
    ({"tp_size": 2, "world_size": 4}, "pp_size=2 with tp_size=2"),
    ({"checkpointing": "sqrt"}, "pp_size=2 with checkpointing=sqrt (its segments would set the stage boundaries)"),
    ({"model": "vit"}, "model vit has no pipeline_stage / logits_loss hooks"),
])
def test_impossible_pipelines_are_skipped_before_launch(settings, expected):
    cfg = RunConfig(**{"pp_size": 2, "world_size": 2, "model_args": {"n_layer": 4}, **settings})
    assert (skip_reason(cfg, CPU) or "").startswith(expected)


def test_possible_ones_are_not():
    for s in ("gpipe", "1f1b", "interleaved_1f1b"):
        assert skip_reason(RunConfig(pp_size=2, world_size=2, pp_schedule=s, model_args={"n_layer": 4}), CPU) is None


def test_merge_takes_the_median_bubble_over_ranks():
    from benchbench.sweep import ranks

    base = dict(status="ok", samples_per_step=4, model_flops_per_step=1e12, peak_tflops=None, step_times_s=[1.0],
                pp_bubble_predicted=0.2)
    rs = [{**base, "pp_bubble_measured": b, "pp_stage_ids": [i]} for i, b in enumerate((0.1, 0.5, 0.3))]
    m = ranks.merge(rs, 3)
    assert m["pp_bubble_measured"] == 0.3 and m["pp_bubble_measured_per_rank"] == [0.1, 0.5, 0.3]
    assert m["pp_stage_ids_per_rank"] == [[0], [1], [2]] and "pp_stage_ids" not in m
