"""Techniques applied to a model that knows nothing of them, in one fixed order.

    fp8 -> attention -> checkpointing -> precision -> compile

fp8 first, as torchtitan converts Linear layers to float8 before anything wraps them; attention
next, so checkpointing=selective wraps the chosen attention function; precision
after the model is restructured, so parameter casts see the final modules; compile last, over
everything. Gradient accumulation and the loss scaler are part of the engine's step; the
optimizer is built after the model is final (techniques/optimizer.py); the EMA of weights is a
hook the engine runs after each optimizer step (techniques/ema.py).
"""

from __future__ import annotations

from benchbench.techniques import attention, checkpointing, compile, ema, fp8, optimizer, precision  # noqa: F401

ORDER = (fp8, attention, checkpointing, precision, compile)


def apply(model, cfg, dev):
    for mod in ORDER:
        model = mod.apply(model, cfg, dev)
    return model


def fields(model, cfg) -> dict:
    """What the techniques report in the row (fp8: the recipe and the converted layers; compile: its scope)."""
    return {**fp8.fields(model, cfg), **compile.fields(model, cfg)}


def model_reason(cfg, model) -> str | None:
    """Why a technique cannot apply to `model` once it is built (a user's model is seen only then)."""
    return compile.model_reason(cfg, model)


def step_hooks(model, cfg) -> list:
    """What runs after each optimizer step (EMA)."""
    return ema.hooks(model, cfg)
