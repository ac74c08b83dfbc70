"""Precision in one table: autocast, parameter dtype, loss scaling, fp8 and the dtype MFU compares with,
asked by techniques, engines, the memory model and the MFU peak (basics/device.py)."""

from __future__ import annotations

import contextlib

import torch

from benchbench.spec.config import RunConfig, allowed_values
from benchbench.techniques import precision
from benchbench.basics import device
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test")


def test_every_precision_is_a_mode_and_a_setting():
    assert allowed_values("precision") == tuple(precision.MODES)
    assert {p: precision.mfu_dtype(p) for p in precision.MODES} == {
        "fp32": "fp32", "tf32": "tf32", "fp16": "fp16", "bf16": "bf16", "bf16-pure": "bf16", "fp8": "bf16"}
    assert device.peak_tflops("NVIDIA H100 80GB HBM3", precision.mfu_dtype("bf16-pure")) == (989.0, None)


def test_the_compute_dtype_follows_autocast_parameters_and_the_engine():
    dtype = {p: precision.compute_dtype(RunConfig(precision=p)) for p in precision.MODES}
    assert dtype == {"fp32": "fp32", "tf32": "fp32", "fp16": "fp16", "bf16": "bf16", "bf16-pure": "bf16", "fp8": "bf16"}
    assert precision.compute_dtype(RunConfig(precision="fp32", engine="fsdp", fsdp_param_dtype="bf16")) == "bf16"
    assert precision.BYTES[precision.params_dtype(RunConfig(precision="bf16-pure"))] == 2


def test_the_activation_kind_the_memory_model_counts():
    kind = precision.activation_kind
    assert kind(RunConfig()) == "fp32" and kind(RunConfig(precision="bf16")) == "autocast"
    assert kind(RunConfig(precision="bf16-pure")) == "16bit" and kind(RunConfig(precision="bf16", engine="deepspeed")) == "16bit"
    assert kind(RunConfig(precision="bf16", engine="fsdp")) == "autocast"  # FSDP2 keeps fp32 shards


def test_autocast_and_the_loss_scaler():
    assert precision.autocast(RunConfig(), CPU) is contextlib.nullcontext
    with precision.autocast(RunConfig(precision="bf16"), CPU)():
        assert torch.is_autocast_enabled("cpu")
    assert precision.autocast(RunConfig(precision="bf16", engine="fsdp"), CPU) is contextlib.nullcontext
    assert precision.grad_scaler(RunConfig(precision="bf16"), CPU) is None
