"""Tensor parallelism with DTensor plans (torch.distributed.tensor.parallel) over a device mesh.

The ranks form a (dp, tp) mesh, tp innermost (neighbouring ranks, on one machine the fastest
links). The model's `tp_plan(sequence_parallel)` hook gives the plans: one for the root
(embeddings, final norm, head) and one applied to every block. engine: torch with tp_size ==
world_size is pure TP; engine: fsdp shards the TP-parallelized model again over the dp dimension
(engines/fsdp.py). The ranks of one TP group must see the same batch: the worker seeds data by
dp rank (rank // (tp_size * pp_size)).
"""

from __future__ import annotations

from benchbench.engines.torch_engine import TorchEngine
from benchbench.plugins.components import Setting

SETTINGS = (
    Setting("tp_size", 1, "tensor-parallel ranks (DTensor plans over a 'tp' mesh dimension); engine torch: pure TP; "
            "engine fsdp: a 2-D (dp, tp) mesh", type=int, gt=0),
    Setting("sequence_parallel", False, "with tp_size > 1: norms and residuals sharded over the sequence "
            "(Megatron-style sequence parallelism)", type=bool),
)


def skip_reason(cfg) -> str | None:
    """Why a tp_size > 1 config cannot run, from its settings alone."""
    t = cfg.tp_size
    if cfg.engine in ("ddp", "deepspeed"):
        return f"tp_size={t} with engine={cfg.engine} is not supported here; engine fsdp gives a 2-D (dp, tp) mesh"
    if cfg.engine == "torch" and cfg.world_size != t:
        return (f"engine=torch with tp_size={t} is pure tensor parallelism: world_size must be {t}, not "
                f"{cfg.world_size} (engine fsdp adds data parallelism)")
    if cfg.compile != "off" or cfg.precision == "fp16":
        what = f"compile={cfg.compile}" if cfg.compile != "off" else "precision=fp16 (the loss scaler)"
        return f"tp_size={t} with {what} is not supported here"
    return None


def model_reason(cfg, model) -> str | None:
    """Why this model cannot be split over tp_size ranks: no tp_plan hook, or its own tp_problem."""
    if not hasattr(model, "tp_plan"):
        return f"model {cfg.model} has no tp_plan hook: tp_size > 1 cannot shard it"
    return model.tp_problem(cfg.tp_size) if hasattr(model, "tp_problem") else None


def mesh(cfg, dev):
    from torch.distributed.device_mesh import init_device_mesh

    return init_device_mesh(dev.type, (cfg.dp_size, cfg.tp_size), mesh_dim_names=("dp", "tp"))


def blocks(model):
    """The model's blocks, looking through activation checkpointing's wrappers (one block or a run of them)."""
    from torch import nn

    from benchbench.techniques.checkpointing import Checkpointed

    for b in model.blocks:
        if isinstance(b, Checkpointed):
            yield from b.inner if isinstance(b.inner, nn.Sequential) else [b.inner]
        else:
            yield b


def parallelize(model, tp_mesh, sequence_parallel: bool):
    from torch.distributed.tensor.parallel import parallelize_module

    inner = getattr(model, "_orig_mod", model)
    root, block = inner.tp_plan(sequence_parallel)
    for b in blocks(inner):
        parallelize_module(b, tp_mesh, block)
    parallelize_module(inner, tp_mesh, root)
    return model


class TPEngine(TorchEngine):
    """engine: torch with tp_size > 1: every rank one shard of every layer; the plain step otherwise."""

    def wrap(self, model, cfg, dev):
        return parallelize(model, mesh(cfg, dev)["tp"], cfg.sequence_parallel)
