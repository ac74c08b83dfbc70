"""Engines run the training step: name -> class(model, make_optimizer, cfg, dev, hooks) with
step(batches) -> loss and fields() -> dict. Each may wrap or shard the model before it builds
the optimizer with make_optimizer(model). Distributed engines run under torch.distributed
(the worker initializes the process group; world_size > 1 is launched through torchrun)."""

from __future__ import annotations

import importlib
import importlib.util

from benchbench.engines.ddp import DDPEngine
from benchbench.engines.fsdp import FSDPEngine, ignored_settings
from benchbench.engines.torch_engine import TorchEngine

ENGINES = {"torch": TorchEngine, "ddp": DDPEngine, "fsdp": FSDPEngine, "deepspeed": "benchbench.engines.deepspeed_engine"}
DISTRIBUTED = ("ddp", "fsdp", "deepspeed")


def _deepspeed():
    return importlib.import_module(ENGINES["deepspeed"])  # imports deepspeed only when asked for


def skip_reason(cfg, dev) -> str | None:
    if cfg.engine != "deepspeed" and (cfg.zero_stage or cfg.offload_optimizer or cfg.offload_param):
        return f"zero_stage / offload are DeepSpeed settings; engine={cfg.engine}"
    if cfg.engine != "fsdp" and ignored_settings(cfg):
        names = ignored_settings(cfg)
        return f"{' / '.join(names)} {'are FSDP settings' if len(names) > 1 else 'is an FSDP setting'}; engine={cfg.engine}"
    if cfg.engine == "deepspeed" and cfg.precision == "fp8":
        return "engine=deepspeed with precision=fp8 is not supported here (torchao float8 runs under torch, ddp, fsdp)"
    if cfg.engine == "torch" and cfg.world_size > 1:
        return f"world_size={cfg.world_size} needs a distributed engine (ddp, fsdp, deepspeed); engine=torch runs one process"
    if cfg.world_size % cfg.nnodes:
        return f"world_size={cfg.world_size} cannot be spread evenly over nnodes={cfg.nnodes}"
    per_node = cfg.world_size // cfg.nnodes
    if dev.type == "cuda" and dev.count and per_node > dev.count:
        return f"world_size={cfg.world_size} over nnodes={cfg.nnodes} needs {per_node} GPUs per machine; this one has {dev.count}"
    if cfg.engine == "fsdp":
        from benchbench.engines.fsdp import skip_reason as fsdp_reason

        return fsdp_reason(cfg, dev)
    if cfg.engine == "deepspeed":
        if importlib.util.find_spec("deepspeed") is None:
            return "engine=deepspeed needs the package 'deepspeed' (pip install 'benchbench[deepspeed]')"
        try:
            mod = _deepspeed()
        except ImportError as e:
            return f"engine=deepspeed is not available in this benchbench: {e}"
        return mod.skip_reason(cfg, dev)
    return None


def build(cfg, model, make_optimizer, dev, hooks=()):
    cls = _deepspeed().DeepSpeedEngine if cfg.engine == "deepspeed" else ENGINES[cfg.engine]
    return cls(model, make_optimizer, cfg, dev, hooks)
