"""Numeric precision of the training step.

fp32       fp32 everywhere, TF32 matmuls off
tf32       fp32 storage, TF32 tensor-core matmuls and convolutions (CUDA, Ampere and newer)
fp16       autocast to float16 + GradScaler (dynamic loss scaling; skipped steps and final scale recorded)
bf16       autocast to bfloat16, fp32 parameters and optimizer state
bf16-pure  bfloat16 parameters and gradients; the optimizer steps an fp32 master copy
           (see techniques/optimizer.py), so updates are not lost to bf16 rounding
"""

from __future__ import annotations

import contextlib
import functools

import torch

AUTOCAST = {"fp16": torch.float16, "bf16": torch.bfloat16}


def skip_reason(cfg, dev) -> str | None:
    p = cfg.precision
    if dev.type == "cpu" and p == "fp16":
        return "precision=fp16 (autocast + GradScaler) is a CUDA technique; CPUs have no fast fp16 matmul"
    if dev.type == "cpu" and p == "tf32":
        return "precision=tf32 needs NVIDIA tensor cores (compute capability 8.0+); this is a CPU"
    cap = dev.capability
    if dev.type == "cuda" and cap is not None and cap < (8, 0) and p in ("tf32", "bf16", "bf16-pure"):
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


def autocast(cfg, dev):
    """A factory of fresh context managers for the forward pass."""
    dtype = AUTOCAST.get(cfg.precision)
    if dtype is None:
        return contextlib.nullcontext
    return functools.partial(torch.autocast, device_type=dev.type, dtype=dtype)


def grad_scaler(cfg, dev):
    return torch.amp.GradScaler(dev.type) if cfg.precision == "fp16" else None
