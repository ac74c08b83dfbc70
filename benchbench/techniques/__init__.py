"""Techniques applied to a model that knows nothing of them, in one fixed order.

    attention -> checkpointing -> precision -> compile

Attention first, so checkpointing=selective wraps the chosen attention function; precision
after the model is restructured, so parameter casts see the final modules; compile last, over
everything. Gradient accumulation and the loss scaler are part of the engine's step; the
optimizer is built after the model is final (techniques/optimizer.py); the EMA of weights is a
hook the engine runs after each optimizer step (techniques/ema.py).
"""

from __future__ import annotations

from benchbench.techniques import attention, checkpointing, compile, ema, optimizer, precision  # noqa: F401

ORDER = (attention, checkpointing, precision, compile)


def apply(model, cfg, dev):
    for mod in ORDER:
        model = mod.apply(model, cfg, dev)
    return model


def step_hooks(model, cfg) -> list:
    """What runs after each optimizer step (EMA)."""
    return ema.hooks(model, cfg)
