"""Attention variants, swapped into every module that has an `attend(q, k, v, is_causal)` function.

eager          explicit softmax(QKᵀ/√d + mask)·V: the (T×T) scores are materialized
sdpa           F.scaled_dot_product_attention, PyTorch picks the backend
flash | mem_efficient | cudnn   sdpa forced to one backend through torch.nn.attention.sdpa_kernel
flex           torch.nn.attention.flex_attention (compiled) with a causal block mask; CUDA only
"""

from __future__ import annotations

import math
import sys

from benchbench.plugins.components import Setting, lazy
from benchbench.techniques import precision

torch, F = lazy("torch"), lazy("torch.nn.functional")

SETTINGS = (Setting("attention", "sdpa", "attention implementation (techniques/attention.py)",
                    choices=("eager", "sdpa", "flash", "mem_efficient", "cudnn", "flex")),)


def eager_attend(q, k, v, is_causal: bool):
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
    if is_causal:
        T, S = q.size(-2), k.size(-2)
        mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
    return F.softmax(scores, dim=-1).to(v.dtype) @ v


def _forced(name: str):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backend = {
        "flash": SDPBackend.FLASH_ATTENTION,
        "mem_efficient": SDPBackend.EFFICIENT_ATTENTION,
        "cudnn": SDPBackend.CUDNN_ATTENTION,
    }[name]

    def attend(q, k, v, is_causal: bool):
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)

    return attend


def _flex():
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    # Uncompiled, flex_attention runs a slow reference path that materializes the scores;
    # compiled it generates a fused kernel, as PyTorch recommends.
    flex_attention = torch.compile(flex_attention, dynamic=False)
    masks: dict = {}

    def causal(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    def attend(q, k, v, is_causal: bool):
        mask = None
        if is_causal:
            key = (q.size(-2), k.size(-2), q.device)
            if key not in masks:
                masks[key] = create_block_mask(causal, None, None, key[0], key[1], device=q.device)
            mask = masks[key]
        return flex_attention(q, k, v, block_mask=mask)

    return attend


def skip_reason(cfg, dev) -> str | None:
    from benchbench import models  # the registry imports torch: only when asked

    a = cfg.attention
    if a != "sdpa" and not models.supports(cfg.model, "attention"):
        return f"attention={a} needs attention modules with an attend function; model {cfg.model} has none"
    if dev.type == "cpu" and a in ("mem_efficient", "cudnn"):
        return f"attention={a}: PyTorch has no CPU kernel for this SDPA backend (No viable backend on CPU)"
    half = precision.BYTES[precision.compute_dtype(cfg)] == 2  # autocast, 16-bit parameters or the engine's cast
    if dev.type == "cuda" and a in ("flash", "cudnn") and not half:
        return f"attention={a} needs fp16 or bf16 inputs; precision={cfg.precision} gives fp32"
    if a == "flex" and dev.type == "cpu":
        return "attention=flex: FlexAttention has no backward on CPU (PyTorch runs its CPU path for inference only)"
    if a == "flex":
        try:
            import torch.nn.attention.flex_attention  # noqa: F401
        except ImportError:
            return f"attention=flex needs torch.nn.attention.flex_attention (torch {torch.__version__} lacks it)"
    return None


def __getattr__(name):
    if name == "sdpa_attend":  # the models' default (models/common.py, which imports torch): on first use
        from benchbench.models.common import sdpa_attend

        return sdpa_attend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def attend_fn(name: str):
    if name == "eager":
        return eager_attend
    if name == "sdpa":
        return getattr(sys.modules[__name__], "sdpa_attend")  # this module's name: a test may swap it
    if name == "flex":
        return _flex()
    return _forced(name)


def apply(model, cfg, dev):
    fn = attend_fn(cfg.attention)
    for m in model.modules():
        if hasattr(m, "attend"):
            m.attend = fn
    return model
