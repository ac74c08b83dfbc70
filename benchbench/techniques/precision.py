"""Numeric precision of the training step, in one place: what every precision autocasts to, stores
parameters in, scales the loss with, and which dtype's peak FLOP/s its matmuls run at. Techniques,
engines, the memory model (plan/memory_model.py) and MFU (basics/device.py, through mfu_dtype) ask this module.

fp32       fp32 everywhere, TF32 matmuls off
tf32       fp32 storage, TF32 tensor-core matmuls and convolutions (CUDA, Ampere and newer)
fp16       autocast to float16 + GradScaler (dynamic loss scaling; skipped steps and final scale recorded)
bf16       autocast to bfloat16, fp32 parameters and optimizer state
bf16-pure  bfloat16 parameters and gradients; the optimizer steps an fp32 master copy
           (see techniques/optimizer.py), so updates are not lost to bf16 rounding
fp8        torchao float8 Linear layers (techniques/fp8.py); every other op under bf16 autocast

An engine that casts the parameters itself says so (capability casts_params_to: FSDP2's bf16
MixedPrecisionPolicy, as torchtitan trains): there is no autocast then. One that stores them in 16 bits
(stores_params_in: DeepSpeed's bf16/fp16) makes the activations 16-bit too.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

from benchbench.plugins.components import Setting, lazy

torch = lazy("torch")


@dataclass(frozen=True)
class Mode:
    autocast: str | None      # the dtype the forward autocasts to (None: no autocast)
    params: str               # the dtype parameters (and gradients) are stored in
    matmul: str               # the math the matmuls run in: whose peak FLOP/s MFU divides by
    loss_scaling: bool = False  # dynamic loss scaling (GradScaler)
    fp8_linears: bool = False   # Linear layers converted to float8 (techniques/fp8.py)
    capability: tuple = (0, 0)  # the CUDA compute capability it needs


MODES = {
    "fp32": Mode(None, "fp32", "fp32"),
    "tf32": Mode(None, "fp32", "tf32", capability=(8, 0)),
    "fp16": Mode("fp16", "fp32", "fp16", loss_scaling=True),
    "bf16": Mode("bf16", "fp32", "bf16", capability=(8, 0)),
    "bf16-pure": Mode(None, "bf16", "bf16", capability=(8, 0)),
    "fp8": Mode("bf16", "fp32", "bf16", fp8_linears=True, capability=(8, 0)),  # fp8's own peak: mfu_fp8
}
BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1}   # bytes per element of each dtype
TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}

SETTINGS = (
    Setting("precision", "fp32", "techniques/precision.py: autocast, GradScaler, pure bf16; fp8: torchao float8 "
            "Linear layers, bf16 autocast elsewhere (techniques/fp8.py)", choices=tuple(MODES)),
)


def torch_dtype(name: str):
    """torch's dtype for a dtype name ("bf16" -> torch.bfloat16)."""
    return getattr(torch, TORCH_DTYPES[name])


def mode(cfg) -> Mode:
    return MODES[cfg.precision]


def params_dtype(cfg) -> str:
    """The dtype parameters are stored in: the engine's, where it stores them itself, else the precision's."""
    stores = cfg.capability("stores_params_in")
    return stores or mode(cfg).params


def compute_dtype(cfg) -> str:
    """The dtype the forward's matmuls take their inputs in: what the engine casts the parameters to,
    else the autocast dtype, else the parameters' dtype."""
    return cfg.capability("casts_params_to") or mode(cfg).autocast or params_dtype(cfg)


def mfu_dtype(precision: str) -> str:
    """The dtype whose dense peak FLOP/s a row of `precision` is compared with (its `mfu`)."""
    return MODES[precision].matmul


def activation_kind(cfg) -> str:
    """How the memory model counts saved activations: '16bit' (16-bit parameters), 'autocast' (fp32
    residual stream, 16-bit matmul outputs) or 'fp32'."""
    if BYTES[params_dtype(cfg)] == 2:
        return "16bit"
    return "autocast" if mode(cfg).autocast else "fp32"


def skip_reason(cfg, dev) -> str | None:
    p = cfg.precision
    if dev.type == "cpu" and p == "fp16":
        return "precision=fp16 (autocast + GradScaler) is a CUDA technique; CPUs have no fast fp16 matmul"
    if dev.type == "cpu" and p == "tf32":
        return "precision=tf32 needs NVIDIA tensor cores (compute capability 8.0+); this is a CPU"
    cap, need = dev.capability, mode(cfg).capability
    if dev.type == "cuda" and cap is not None and cap < need:
        return f"precision={p} needs compute capability {need[0]}.{need[1]}+; {dev.name} has {cap[0]}.{cap[1]}"
    return None


def apply(model, cfg, dev):
    if dev.type == "cuda":
        tf32 = mode(cfg).matmul == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    if mode(cfg).params != "fp32":
        model = model.to(torch_dtype(mode(cfg).params))
    return model


def autocast(cfg, dev):
    """A factory of fresh context managers for the forward pass (none where the engine casts the parameters)."""
    dtype = mode(cfg).autocast
    if dtype is None or cfg.capability("casts_params_to"):
        return contextlib.nullcontext
    return functools.partial(torch.autocast, device_type=dev.type, dtype=torch_dtype(dtype))


def grad_scaler(cfg, dev):
    return torch.amp.GradScaler(dev.type) if mode(cfg).loss_scaling else None
