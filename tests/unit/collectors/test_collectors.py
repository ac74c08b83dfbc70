"""Collectors on a CPU: field names and units, arithmetic, graceful absence, real traces and py-spy."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import torch

from benchbench.collectors import Context, trace_summary
from benchbench.collectors.nvml import NVML
from benchbench.spec.config import RunConfig
from benchbench.worker import measure as worker
from benchbench.worker.device import DeviceInfo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TINY = dict(model_args={"n_layer": 2, "n_embd": 32, "n_head": 2, "seq_len": 32, "vocab_size": 64},
            batch_size=2, warmup_steps=1, measured_steps=3, device="cpu")


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    """One real measurement with every collector, the profiler and (when installed) py-spy."""
    art = tmp_path_factory.mktemp("run") / "artifacts" / "abc-r0"
    # 60 steps: a timed window of a second or more, so py-spy (100 Hz) samples it even on a loaded machine
    cfg = RunConfig(**{**TINY, "measured_steps": 60}, attention="eager", profile=True,
                    pyspy=shutil.which("py-spy") is not None)
    return worker.measure(cfg, art), art


def test_fields_have_units_in_their_names(profiled):
    row, _ = profiled
    for key in ("setup_s", "warmup_s", "measured_s", "step_time_s_median", "tokens_per_s", "samples_per_s",
                "peak_rss_bytes", "params_bytes", "grads_bytes", "optimizer_state_bytes", "model_tflops_per_s",
                "hardware_flops_per_step", "hardware_tflops_per_s", "profile_busy_frac"):
        assert key in row, key
    assert row["device_type"] == "cpu" and row["nvml_reason"] == "device is cpu, not an NVIDIA GPU"
    assert row["mfu"] is None and row["mfu_reason"] == "no peak FLOP/s for device type cpu"
    assert "gpu_util_pct_mean" not in row and "energy_j" not in row  # absent, so null in tables


def test_memory_breakdown_matches_the_model(profiled):
    row, _ = profiled
    n = row["n_params"]
    assert row["params_bytes"] == 4 * n  # fp32 parameters
    assert row["grads_bytes"] == 4 * n
    assert row["optimizer_state_bytes"] == 2 * 4 * n  # AdamW: exp_avg + exp_avg_sq


def test_throughput_arithmetic(profiled):
    row, _ = profiled
    mean = sum(row["step_times_s"]) / len(row["step_times_s"])
    assert row["step_time_s_n"] == 60 and row["samples_per_s"] == pytest.approx(2 / mean)
    assert row["tokens_per_s"] == pytest.approx(2 * 32 / mean)
    assert row["model_tflops_per_s"] == pytest.approx(row["model_flops_per_step"] / mean / 1e12)
    # eager attention is fully counted by FlopCounterMode: hardware = analytic FLOPs within 2%
    # (seen: 1.03% less; the analytic 6N counts LayerNorm weights as if they were matmul weights)
    assert row["hardware_flops_per_step"] == pytest.approx(row["model_flops_per_step"], rel=0.02)
    assert row["hardware_flops_per_step"] < row["model_flops_per_step"]


def test_bf16_pure_counts_master_weights_as_optimizer_state():
    ctx, built, _ = worker.setup(RunConfig(**TINY, precision="bf16-pure"))
    ctx.engine.step(ctx.batches)
    from benchbench.collectors.memory import Memory

    m = Memory(ctx)
    m.start()
    m.stop()
    n = built.n_params
    assert m.fields()["params_bytes"] == 2 * n  # bf16
    assert m.fields()["optimizer_state_bytes"] == 3 * 4 * n  # fp32 master + two fp32 moments


def test_profiler_trace_is_stored_and_summarized(profiled):
    row, art = profiled
    assert row["profile_trace"] == "artifacts/abc-r0/trace.json.gz"
    trace = json.load(gzip.open(art / "trace.json.gz", "rt"))
    assert any(e.get("name") == "aten::mm" for e in trace["traceEvents"])
    shares = [row[f"profile_share_{c}"] for c in trace_summary.CATEGORY_NAMES]
    assert sum(shares) == pytest.approx(1.0)
    assert row["profile_share_matmul"] > 0 and row["profile_share_optimizer"] > 0  # shares, not their sizes: no timing
    top = json.loads(row["profile_top_kernels"])
    assert 0 < len(top) <= 10 and top == sorted(top, key=lambda k: -k["time_us"])


@pytest.mark.skipif(shutil.which("py-spy") is None, reason="py-spy not installed")
def test_pyspy_profiles_a_real_worker(profiled):
    row, art = profiled
    assert row.get("pyspy_reason") is None, row.get("pyspy_reason")
    speedscope = json.loads((art / "pyspy.speedscope.json").read_text())
    frames = [f["name"] for f in speedscope["shared"]["frames"]]
    assert "_timed_window" in frames  # py-spy saw the worker inside its measured loop
    assert (art / "pyspy.svg").read_text().lstrip().startswith("<?xml")


def test_pyspy_missing_is_a_reason_not_a_failure(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    row = worker.measure(RunConfig(**TINY, pyspy=True), tmp_path / "a")
    assert row["pyspy_reason"] == "py-spy not installed (pip install py-spy)"
    assert row["step_time_s_n"] == 3


# ---------------------------------------------------------------- trace summary on synthetic traces


def _k(name, ts, dur, corr=None, cat="kernel"):
    return {"ph": "X", "cat": cat, "name": name, "ts": ts, "dur": dur, "pid": 0, "tid": 7, "args": {"correlation": corr}}


def test_gpu_summary_busy_idle_and_categories():
    trace = {"traceEvents": [
        _k("sm90_xmma_gemm_bf16bf16_bf16f32", 0, 40, 1),
        _k("flash_fwd_kernel", 50, 20, 2),
        _k("Memcpy HtoD (Pageable -> Device)", 70, 10, 3, cat="gpu_memcpy"),
        _k("multi_tensor_apply_kernel", 90, 10, 4),  # launched inside Optimizer.step: optimizer
        _k("vectorized_elementwise_kernel", 95, 5, 5),  # overlaps the previous one
        {"ph": "X", "cat": "user_annotation", "name": "Optimizer.step#AdamW.step", "ts": 1000, "dur": 100, "tid": 1},
        {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 1010, "dur": 5, "tid": 1, "args": {"correlation": 4}},
        {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 2000, "dur": 5, "tid": 1, "args": {"correlation": 5}},
    ]}
    s = trace_summary.summarize(trace)
    assert s["profile_device"] == "cuda"
    assert s["profile_busy_frac"] == pytest.approx(80 / 100)  # union of intervals over [0, 100]
    total = 85.0
    assert s["profile_share_matmul"] == pytest.approx(40 / total)
    assert s["profile_share_attention"] == pytest.approx(20 / total)
    assert s["profile_share_memcpy"] == pytest.approx(10 / total)
    assert s["profile_share_optimizer"] == pytest.approx(10 / total)
    assert s["profile_share_norm_elementwise"] == pytest.approx(5 / total)


def test_cpu_summary_uses_self_time():
    trace = {"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::linear", "ts": 0, "dur": 100, "tid": 1},
        {"ph": "X", "cat": "cpu_op", "name": "aten::addmm", "ts": 10, "dur": 80, "tid": 1},
        {"ph": "X", "cat": "cpu_op", "name": "aten::gelu", "ts": 100, "dur": 20, "tid": 1},
    ]}
    s = trace_summary.summarize(trace)
    top = {k["name"]: k["time_us"] for k in json.loads(s["profile_top_kernels"])}
    assert top == {"aten::addmm": 80.0, "aten::linear": 20.0, "aten::gelu": 20.0}
    assert s["profile_share_matmul"] == pytest.approx(100 / 120)


@pytest.mark.skipif(not (FIXTURES / "gpu_trace_gpt2_bf16.json.gz").exists(), reason="GPU trace fixture not recorded yet")
def test_summary_of_a_real_gpu_trace():
    """A trace recorded on an H100 (GPT-2 124M, bf16, SDPA, batch 16 x 1024, fused AdamW, 3 steps;
    see tests/fixtures/README.md). Seen: matmul 0.37, casts and copies 0.16, attention (cuDNN
    flash) 0.087, fused AdamW 0.035, GPU busy 0.97 of the window."""
    s = trace_summary.summarize(trace_summary.load(FIXTURES / "gpu_trace_gpt2_bf16.json.gz"))
    assert s["profile_device"] == "cuda"
    assert 0.3 < s["profile_share_matmul"] < 0.5
    assert 0.1 < s["profile_share_memcpy"] < 0.25
    assert 0.05 < s["profile_share_attention"] < 0.15
    assert 0.02 < s["profile_share_optimizer"] < 0.06
    assert s["profile_share_other"] < 0.1
    assert 0.9 < s["profile_busy_frac"] <= 1.0
    top = json.loads(s["profile_top_kernels"])
    assert top[0]["name"].startswith("nvjet_sm90")  # cuBLAS's Hopper GEMM


# ---------------------------------------------------------------- NVML


def test_nvml_on_cpu_gives_a_reason():
    c = NVML(Context(cfg=RunConfig(), dev=torch.device("cpu"), info=DeviceInfo("cpu", "x")))
    c.start()
    c.stop()
    assert c.fields() == {"nvml_reason": "device is cpu, not an NVIDIA GPU"}


def test_nvml_fields_from_samples():
    """Statistics, throttle flags and the power-integration fallback, from known samples."""
    c = NVML.__new__(NVML)
    c.interval_s, c.reason = 0.05, None
    # (t, gpu%, mem%, W, MHz, C, throttle bits, process bytes, device bytes)
    c.samples = [(0.0, 90, 40, 300.0, 1980, 60, 0x0, 10, 100), (1.0, 100, 50, 500.0, 1900, 70, 0x4, 20, 120),
                 (2.0, 80, 30, 400.0, 1800, 80, 0x20 | 0x1, 15, 110)]
    c.energy = (None, None)  # counter unsupported
    f = c.fields()
    assert f["gpu_util_pct_mean"] == pytest.approx(90) and f["power_w_max"] == 500.0 and f["sm_clock_mhz_min"] == 1800
    assert f["throttled"] == "power,thermal"  # idle (0x1) is not throttling
    assert f["energy_method"] == "power_samples" and f["energy_j"] == pytest.approx(400 + 450)
    assert f["process_gpu_memory_peak_bytes"] == 20 and f["device_memory_used_peak_bytes"] == 120
    c.energy = (1_000_000, 1_850_000)  # mJ
    assert c.fields()["energy_j"] == pytest.approx(850.0) and c.fields()["energy_method"] == "counter"


@pytest.mark.gpu
def test_nvml_on_a_gpu(tmp_path):
    row = worker.measure(RunConfig(device="cuda", precision="bf16", batch_size=8, measured_steps=20), tmp_path / "a")
    assert row["nvml_reason"] is None and row["nvml_samples"] >= 2
    assert row["energy_j"] > 0 and row["energy_j_per_step"] > 0 and row["tokens_per_j"] > 0
    assert row["peak_allocated_bytes"] > row["params_bytes"]
