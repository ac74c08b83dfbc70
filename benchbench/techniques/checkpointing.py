"""Activation checkpointing through torch.utils.checkpoint (non-reentrant); the model is not forked.

none       keep every activation
full       recompute every block in backward: one block input is kept per block
every_k    checkpoint one block in k (blocks 0, k, 2k, ...): memory and recompute in between
sqrt       ⌈√L⌉ consecutive blocks per checkpointed segment (Chen et al. 2016): √L segment
           inputs kept, one segment recomputed at a time - the memory-optimal uniform schedule
           (a model whose SUPPORTS says sequential_blocks: False skips it)
selective  recompute only the attention core (QKᵀ, softmax, ·V), Korthikanti et al. 2022
selective_op  torchtitan's op-level selective checkpointing of every block: the outputs of the attention
           kernels and of every other matmul are saved, everything else (norms, activations, rotary, the
           other matmuls) is recomputed in backward (torch.utils.checkpoint's selective contexts)
"""

from __future__ import annotations

import functools
import math
from collections import Counter

from benchbench.plugins.components import Setting, lazy

torch, nn, ckpt = lazy("torch"), lazy("torch.nn"), lazy("torch.utils.checkpoint")

SETTINGS = (
    Setting("checkpointing", "none", "activation checkpointing (techniques/checkpointing.py)",
            choices=("none", "full", "every_k", "sqrt", "selective", "selective_op")),
    Setting("checkpoint_k", 2, "with checkpointing: every_k, checkpoint one block in k", type=int, gt=0),
)


@functools.cache
def saved_ops() -> frozenset:
    """The ops whose outputs selective_op saves (torchtitan's list, with the CPU and cuDNN attention kernels):
    compute-heavy, so recomputing them would cost more than the memory they hold."""
    names = [("aten", "mm"), ("aten", "_scaled_mm"), ("aten", "_scaled_dot_product_flash_attention"),
             ("aten", "_scaled_dot_product_efficient_attention"), ("aten", "_scaled_dot_product_cudnn_attention"),
             ("aten", "_scaled_dot_product_flash_attention_for_cpu"), ("aten", "max"),
             ("_c10d_functional", "reduce_scatter_tensor")]
    ops = [getattr(getattr(getattr(torch.ops, ns), name, None), "default", None) for ns, name in names]
    return frozenset(op for op in ops if op is not None)


def op_policy():
    """torchtitan's policy for one checkpointed call: save the saved_ops() outputs but every second matmul's
    (counted apart in forward and in the recompute, so both make the same choices)."""
    mms = Counter()
    matmuls = {torch.ops.aten.mm.default, torch.ops.aten._scaled_mm.default}

    def policy(ctx, func, *args, **kwargs):
        phase = "recompute" if ctx.is_recompute else "forward"
        if func in matmuls:
            mms[phase] += 1
            if mms[phase] % 2 == 0:
                return ckpt.CheckpointPolicy.PREFER_RECOMPUTE
        return ckpt.CheckpointPolicy.MUST_SAVE if func in saved_ops() else ckpt.CheckpointPolicy.PREFER_RECOMPUTE

    return policy


def _op_contexts():
    return ckpt.create_selective_checkpoint_contexts(op_policy())


@functools.cache
def _checkpointed_class():
    """The module class, defined on first use (it subclasses nn.Module: torch is imported only then)."""

    class Checkpointed(nn.Module):
        """Runs `inner` (one block or a run of blocks) under checkpoint; `selective`: under torchtitan's op policy."""

        def __init__(self, *blocks, selective: bool = False):
            super().__init__()
            self.inner = blocks[0] if len(blocks) == 1 else nn.Sequential(*blocks)
            self.selective = selective

        def forward(self, *args):
            if self.selective:
                return ckpt.checkpoint(self.inner, *args, use_reentrant=False, context_fn=_op_contexts)
            return ckpt.checkpoint(self.inner, *args, use_reentrant=False)

    Checkpointed.__qualname__ = "Checkpointed"  # pickled by name: found through __getattr__ below
    return Checkpointed


def __getattr__(name):
    if name == "Checkpointed":
        return _checkpointed_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _segments(blocks: list, mode: str, k: int) -> list[nn.Module]:
    Checkpointed = _checkpointed_class()  # noqa: N806 (a class)
    if mode in ("full", "selective_op"):
        return [Checkpointed(b, selective=mode == "selective_op") for b in blocks]
    if mode == "every_k":
        return [Checkpointed(b) if i % k == 0 else b for i, b in enumerate(blocks)]
    size = math.ceil(math.sqrt(len(blocks)))  # sqrt
    return [Checkpointed(*blocks[i : i + size]) for i in range(0, len(blocks), size)]


def _recompute_attention(m: nn.Module):
    inner = m.attend

    def attend(q, k, v, is_causal):
        return ckpt.checkpoint(inner, q, k, v, is_causal, use_reentrant=False)

    m.attend = attend


def skip_reason(cfg, dev) -> str | None:
    if cfg.checkpointing == "none":
        return None
    from benchbench import models  # the registry imports torch: only when asked

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
