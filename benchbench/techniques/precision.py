"""Numeric precision of the training step.

fp32       fp32 everywhere, TF32 matmuls off
tf32       fp32 storage, TF32 tensor-core matmuls and convolutions (CUDA, Ampere and newer)
fp16       autocast to float16 + GradScaler (dynamic loss scaling; skipped steps and final scale recorded)
bf16       autocast to bfloat16, fp32 parameters and optimizer state
bf16-pure  bfloat16 parameters and gradients; the optimizer steps an fp32 master copy
           (see techniques/optimizer.py), so updates are not lost to bf16 rounding
fp8        torchao float8 Linear layers (techniques/fp8.py); every other op under bf16 autocast

Under engine fsdp with a bf16 parameter dtype (fsdp_param_dtype, by default for bf16 and fp8) FSDP2's
MixedPrecisionPolicy casts the parameters and there is no autocast, as torchtitan trains.
"""

from __future__ import annotations

import contextlib
import functools

import torch

AUTOCAST = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp8": torch.bfloat16}


def skip_reason(cfg, dev) -> str | None:
    p = cfg.precision
    if dev.type == "cpu" and p == "fp16":
        return "precision=fp16 (autocast + GradScaler) is a CUDA technique; CPUs have no fast fp16 matmul"
    if dev.type == "cpu" and p == "tf32":
        return "precision=tf32 needs NVIDIA tensor cores (compute capability 8.0+); this is a CPU"
    cap = dev.capability
    if dev.type == "cuda" and cap is not None and cap < (8, 0) and p in ("tf32", "bf16", "bf16-pure", "fp8"):
        return f"precision={p} needs compute capability 8.0+; {dev.name} has {cap[0]}.{cap[1]}"
    return None


def apply(model, cfg, dev):
    if dev.type == "cuda":
        tf32 = cfg.precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    if cfg.precision == "bf16-pure":
        model = model.to(torch.bfloat16)
    return model


def fsdp_param_dtype(cfg) -> str:
    """The dtype FSDP2 gathers parameters in: the setting, else bf16 for bf16 and fp8, else fp32."""
    return cfg.fsdp_param_dtype or ("bf16" if cfg.precision in ("bf16", "fp8") else "fp32")


def autocast(cfg, dev):
    """A factory of fresh context managers for the forward pass (none where FSDP2 casts the parameters)."""
    dtype = AUTOCAST.get(cfg.precision)
    if dtype is None or (cfg.engine == "fsdp" and fsdp_param_dtype(cfg) == "bf16"):
        return contextlib.nullcontext
    return functools.partial(torch.autocast, device_type=dev.type, dtype=dtype)


def grad_scaler(cfg, dev):
    return torch.amp.GradScaler(dev.type) if cfg.precision == "fp16" else None
