"""Activation checkpointing through torch.utils.checkpoint (non-reentrant); the model is not forked.

none       keep every activation
full       recompute every block in backward: one block input is kept per block
every_k    checkpoint one block in k (blocks 0, k, 2k, ...): memory and recompute in between
sqrt       ⌈√L⌉ consecutive blocks per checkpointed segment (Chen et al. 2016): √L segment
           inputs kept, one segment recomputed at a time - the memory-optimal uniform schedule
           (a model whose SUPPORTS says sequential_blocks: False skips it)
selective  recompute only the attention core (QKᵀ, softmax, ·V), Korthikanti et al. 2022
"""

from __future__ import annotations

import math

import torch.nn as nn
from torch.utils.checkpoint import checkpoint

from benchbench import models


class Checkpointed(nn.Module):
    """Runs `inner` (one block or a run of blocks) under checkpoint."""

    def __init__(self, *blocks: nn.Module):
        super().__init__()
        self.inner = blocks[0] if len(blocks) == 1 else nn.Sequential(*blocks)

    def forward(self, *args):
        return checkpoint(self.inner, *args, use_reentrant=False)


def _segments(blocks: list, mode: str, k: int) -> list[nn.Module]:
    if mode == "full":
        return [Checkpointed(b) for b in blocks]
    if mode == "every_k":
        return [Checkpointed(b) if i % k == 0 else b for i, b in enumerate(blocks)]
    size = math.ceil(math.sqrt(len(blocks)))  # sqrt
    return [Checkpointed(*blocks[i : i + size]) for i in range(0, len(blocks), size)]


def _recompute_attention(m: nn.Module):
    inner = m.attend

    def attend(q, k, v, is_causal):
        return checkpoint(inner, q, k, v, is_causal, use_reentrant=False)

    m.attend = attend


def skip_reason(cfg, dev) -> str | None:
    if cfg.checkpointing == "none":
        return None
    if not models.supports(cfg.model, "checkpointing"):
        return f"checkpointing={cfg.checkpointing} needs a model with .blocks; {cfg.model} has none"
    if cfg.checkpointing == "sqrt" and not models.supports(cfg.model, "sequential_blocks"):
        return f"checkpointing=sqrt groups consecutive blocks; model {cfg.model} has skip connections between blocks"
    return None


def apply(model, cfg, dev):
    mode = cfg.checkpointing
    if mode == "none":
        return model
    if mode == "selective":
        for m in model.modules():
            if hasattr(m, "attend"):
                _recompute_attention(m)
        return model
    model.blocks = nn.ModuleList(_segments(list(model.blocks), mode, cfg.checkpoint_k))
    return model
