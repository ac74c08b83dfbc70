"""RunConfig: validation, the config id (stable, blind to repeats and timeout), flat rows."""

import json

import pytest
from pydantic import ValidationError

from benchbench.spec.config import FIELDS, NOT_IN_ID, RunConfig, allowed_values


def test_same_config_same_id_whatever_the_spelling():
    a = RunConfig(model="gpt", model_size="tiny", batch_size=8, lr=3e-4, timeout_s=300)
    b = RunConfig(lr=0.0003, batch_size=8, timeout_s=300.0)  # defaults and number spellings give the same config
    assert a.config_id == b.config_id
    assert len(a.config_id) == 12 and int(a.config_id, 16) >= 0


def test_id_is_a_pure_function_of_the_canonical_config():
    cfg = RunConfig(precision="bf16", attention="eager", model_args={"n_layer": 4, "n_embd": 128})
    again = RunConfig(attention="eager", model_args={"n_embd": 128, "n_layer": 4}, precision="bf16")
    assert cfg.config_id == again.config_id
    assert RunConfig.model_validate_json(cfg.model_dump_json()).config_id == cfg.config_id


@pytest.mark.parametrize("field,value", [("repeats", 5), ("timeout_s", 1.5)])
def test_repeats_and_timeout_do_not_change_the_id(field, value):
    assert field in NOT_IN_ID
    assert RunConfig(**{field: value}).config_id == RunConfig().config_id


@pytest.mark.parametrize("field,value", [
    ("model_size", "124m"), ("model_args", {"n_layer": 3}), ("batch_size", 9), ("seq_len", 32),
    ("device", "cpu"), ("warmup_steps", 0), ("measured_steps", 7), ("seed", 1), ("precision", "bf16"),
    ("grad_accum", 2), ("checkpointing", "full"), ("checkpoint_k", 3), ("attention", "eager"),
    ("compile", "default"), ("optimizer", "sgd"), ("optimizer_impl", "fused"), ("lr", 1e-3),
    ("grad_clip", 1.0), ("world_size", 2), ("engine", "ddp"), ("zero_stage", 2), ("offload_optimizer", True),
    ("reduce_bucket_size", 5 * 10**7), ("ema_decay", 0.999), ("tp_size", 2), ("sequence_parallel", True),
    ("pp_size", 2), ("pp_schedule", "gpipe"), ("pp_microbatches", 4), ("pp_stages_per_rank", 2),
])
def test_every_axis_changes_the_id(field, value):
    assert RunConfig(**{field: value}).config_id != RunConfig().config_id


def test_canonical_holds_the_non_default_identifying_fields():
    """Only settings that differ from their default: a field added later keeps old ids stable."""
    assert RunConfig().canonical() == {}
    assert RunConfig(precision="bf16", repeats=5, timeout_s=9).canonical() == {"precision": "bf16"}
    assert set(NOT_IN_ID) <= set(FIELDS)  # NOT_IN_ID names real fields


def test_config_id_is_pinned():
    """Changing how ids are computed orphans every stored result: this must fail loudly first."""
    assert RunConfig().config_id == "44136fa355b3"
    assert RunConfig(precision="bf16", attention="eager").config_id == RunConfig(attention="eager", precision="bf16").config_id


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"batch_size": -1}, {"batch_size": "x"}, {"precision": "fp4"},
                                 {"timeout_s": 0}, {"unknown_field": 1}, {"model_args": {"n_layer": "four"}},
                                 {"tp_size": 0}, {"pp_size": 0}, {"pp_schedule": "zero_bubble"}, {"pp_microbatches": 0},
                                 {"sequence_parallel": "yes"}, {"tp_size": 2.0}])
def test_invalid_values_are_refused(bad):
    with pytest.raises(ValidationError):
        RunConfig(**bad)


def test_frozen():
    cfg = RunConfig()
    with pytest.raises(ValidationError):
        cfg.batch_size = 4


def test_effective_batch():
    assert RunConfig(batch_size=4, grad_accum=8, world_size=2).effective_batch == 64
    # TP and PP ranks of one replica share its batch: the global batch counts it once
    assert RunConfig(batch_size=4, world_size=8, tp_size=2, pp_size=2).effective_batch == 8
    assert RunConfig(pp_size=4).microbatches == 8 and RunConfig(pp_schedule="interleaved_1f1b").stages_per_rank == 2


def test_flat_row_columns():
    flat = RunConfig(model_args={"n_layer": 4, "n_embd": 128}).flat()
    assert flat["model_args"] == json.dumps({"n_embd": 128, "n_layer": 4})
    assert RunConfig().flat()["model_args"] == ""
    assert all(not isinstance(v, (dict, list)) for v in flat.values())


def test_allowed_values():
    assert allowed_values("precision") == ("fp32", "tf32", "fp16", "bf16", "bf16-pure", "fp8")
    assert allowed_values("batch_size") is None
    assert allowed_values("fsdp_param_dtype") == ("fp32", "bf16", None)   # optional: null is allowed too
    assert allowed_values("grad_clip") is None


@pytest.mark.parametrize("field,value", [("batch_size", True), ("batch_size", "8"), ("batch_size", 8.5),
                                         ("world_size", False), ("repeats", "3"), ("profile", 1), ("profile", "yes")])
def test_whole_numbers_and_booleans_are_not_coerced(field, value):
    with pytest.raises(ValueError, match="must be (a whole number|true or false)"):
        RunConfig(**{field: value})


def test_auto_steps_and_repeats_and_their_limits_leave_the_id_alone():
    assert RunConfig(measured_steps="auto").config_id != RunConfig().config_id  # what is measured changes
    assert RunConfig(repeats="auto", max_repeats=5, compile_cache="cold").config_id == RunConfig().config_id
    with pytest.raises(ValueError):
        RunConfig(measured_steps="sometimes")


@pytest.mark.parametrize("field,value", [("repeats", 1001), ("max_repeats", 10**9), ("measured_steps", 10**7),
                                         ("warmup_steps", 10**7), ("grad_accum", 10**7)])
def test_counts_have_upper_bounds(field, value):
    from benchbench.spec.config import MAX_COUNTS

    with pytest.raises(ValidationError, match="must be at most"):
        RunConfig(**{field: value})
    RunConfig(**{field: MAX_COUNTS[field]})


def test_min_steps_above_max_steps_is_refused():
    with pytest.raises(ValidationError, match=r"min_steps \(50\) is above max_steps \(20\)"):
        RunConfig(measured_steps="auto", min_steps=50, max_steps=20)
    RunConfig(measured_steps="auto", min_steps=20, max_steps=20)
