"""Bound class and roofline point: the committed one-GPU engine rows (results/examples/llama-fp8-h200/engines,
one H200) and synthetic rows whose arithmetic is checked by hand."""

from pathlib import Path

import pandas as pd
import pytest

from benchbench.analysis import bound
from benchbench.basics.device import peak_gb_per_s
from benchbench.store import results

ENGINES = Path(__file__).parents[3] / "results/examples/llama-fp8-h200/engines"
FSDP_EAGER_16 = "39a067513950"  # engine fsdp, world_size 1, 16 x 1024, eager, profiled
TORCH_EAGER_16 = "3a93a026e4eb"


@pytest.fixture(scope="module")
def engines():
    return results.load(ENGINES)


def test_fsdp2_at_one_gpu_is_host_bound_from_its_rows_alone(engines):
    b = bound.config_bound(engines[engines["config_id"] == FSDP_EAGER_16], peak_gb_per_s)
    assert b["bound"] == "host/launch"
    assert "GPU busy 43%" in b["bound_basis"]  # median of the three repeats' profiles (38%, 46%, 43%)


def test_the_plain_loop_is_not_host_bound(engines):
    b = bound.config_bound(engines[engines["config_id"] == TORCH_EAGER_16], peak_gb_per_s)
    assert b["bound"] in ("compute", "memory bandwidth")
    assert 0 < b["roofline_frac"] < 1
    assert b["peak_gb_per_s"] == 4800.0 and b["peak_tflops"] == 989.0


def test_unprofiled_configs_are_classed_by_the_roofline_and_say_so(engines):
    t = bound.per_config(engines, peak_gb_per_s)
    unprofiled = t[t["bound_basis"].str.startswith("roofline only")]
    assert len(unprofiled) == 4 and set(unprofiled["bound"]) <= set(bound.BOUNDS)


def row(**kw):
    base = {"config_id": "c", "status": "ok", "world_size": 1, "device_name": "NVIDIA H100 80GB HBM3",
            "peak_tflops": 989.0, "step_time_s_median": 0.1, "model_flops_per_step": 50e12,
            "activations_workspace_bytes": 100e9, "params_bytes": 10e9, "grads_bytes": 10e9,
            "optimizer_state_bytes": 20e9, "peak_gb_per_s": 3350.0}
    return {**base, **kw}


def test_roofline_arithmetic():
    b = bound.config_bound(pd.DataFrame([row()]))
    nbytes = 2 * 100e9 + 3 * 10e9 + 2 * 10e9 + 2 * 20e9
    assert b["achieved_tflops_per_s"] == pytest.approx(500.0)
    assert b["achieved_gb_per_s"] == pytest.approx(nbytes / 0.1 / 1e9)
    assert b["intensity_flop_per_byte"] == pytest.approx(50e12 / nbytes)
    attainable = min(989.0, 50e12 / nbytes * 3350.0 / 1e3)  # 171 FLOP/byte x 3.35 TB/s: the memory roof
    assert b["roofline_frac"] == pytest.approx(500.0 / attainable)
    assert b["bound"] == "memory bandwidth" and "ridge" in b["bound_basis"]


def test_profile_shares_decide_without_a_ridge_and_communication_comes_first():
    prof = {"profile_busy_frac": 0.95, "profile_share_matmul": 0.6, "profile_share_attention": 0.1,
            "profile_share_communication": 0.0}
    no_bytes = {"activations_workspace_bytes": None}  # no byte count: no intensity, no ridge
    b = bound.config_bound(pd.DataFrame([row(**prof, **no_bytes)]))
    assert b["bound"] == "compute" and "no FLOPs, bytes or device peaks for the ridge" in b["bound_basis"]
    assert bound.config_bound(pd.DataFrame([row(**{**prof, **no_bytes, "profile_share_matmul": 0.2})]))["bound"] == "memory bandwidth"
    assert bound.config_bound(pd.DataFrame([row(**{**prof, "profile_share_communication": 0.4})]))["bound"] == "communication"
    assert bound.config_bound(pd.DataFrame([row(**{**prof, "profile_busy_frac": 0.5})]))["bound"] == "host/launch"


def test_the_ridge_decides_where_flops_and_bytes_are_known():
    """Intensity against peak FLOP/s / peak bandwidth (989 TFLOP/s / 3350 GB/s: 295 FLOP/byte), whatever the
    profile's shares; at the ridge exactly: compute."""
    prof = {"profile_busy_frac": 0.95, "profile_share_matmul": 0.1, "profile_share_communication": 0.0}
    ridge = 989.0 * 1e3 / 3350.0
    nbytes = 2 * 100e9 + 3 * 10e9 + 2 * 10e9 + 2 * 20e9
    at = bound.config_bound(pd.DataFrame([row(**prof, model_flops_per_step=ridge * nbytes)]))
    assert at["intensity_flop_per_byte"] == pytest.approx(ridge)
    assert at["bound"] == "compute" and at["bound_basis"] == "295 FLOP/byte against the ridge at 295"
    below = bound.config_bound(pd.DataFrame([row(**prof, model_flops_per_step=ridge * nbytes * 0.999)]))
    assert below["bound"] == "memory bandwidth" and not below["bound_basis"].startswith("roofline only")
    dense = {**prof, "profile_share_matmul": 0.9}  # 90% matmul, yet below the ridge: memory bandwidth
    assert bound.config_bound(pd.DataFrame([row(**dense, model_flops_per_step=ridge * nbytes * 0.5)]))["bound"] == "memory bandwidth"


def test_the_memory_roof_is_the_rows_else_the_lookup():
    old = pd.DataFrame([row(peak_gb_per_s=None)])  # rows written before the column existed
    assert bound.config_bound(old)["roofline_frac"] is None
    assert bound.config_bound(old, peak_gb_per_s)["peak_gb_per_s"] == 3350.0
    assert bound.config_bound(pd.DataFrame([row(peak_gb_per_s=1000.0)]), peak_gb_per_s)["peak_gb_per_s"] == 1000.0


def test_a_cpu_run_has_no_bound_but_a_table_still_renders():
    b = bound.config_bound(pd.DataFrame([row(device_name="cpu", peak_tflops=None, peak_gb_per_s=None)]))
    assert b["bound"] is None and b["achieved_tflops_per_s"] == pytest.approx(500.0)


def test_the_table_gets_one_bound_column(engines):
    from benchbench.analysis import summary

    t = bound.with_bound(summary.summary(engines), engines, peak_gb_per_s)
    got = dict(zip(t["config_id"], t["bound"]))
    assert got[FSDP_EAGER_16] == "host/launch"
    assert got["9d20e4c848ef"].endswith("(roofline)")  # compiled FSDP2: no profile, said so
    cpu = pd.DataFrame([row(device_name="cpu", peak_tflops=None, peak_gb_per_s=None, activations_workspace_bytes=None)])
    assert "bound" not in bound.with_bound(summary.summary(cpu.assign(repeat=0)), cpu)
