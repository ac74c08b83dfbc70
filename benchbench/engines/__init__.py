"""Engines run the training step: name -> class(model, make_optimizer, cfg, dev, hooks) with
step(batches) -> loss and fields() -> dict. Each may wrap or shard the model before it builds
the optimizer with make_optimizer(model). Distributed engines run under torch.distributed
(the worker initializes the process group; world_size > 1 is launched through torchrun).

tp_size > 1 shards every layer over ranks (tensor.py: engine torch alone, engine fsdp on a 2-D mesh);
pp_size > 1 runs the pipeline engine (pipeline.py). See docs/parallelism.md.

A package adds engines through entry points of the group benchbench.engines (docs/plugins.md): a class
with the same constructor, step() and fields() (subclass TorchEngine); optional: DISTRIBUTED = True
(it needs a process group) and skip_reason(cfg, dev), asked after the checks every engine gets."""

from __future__ import annotations

import importlib
import importlib.util

from benchbench import plugins
from benchbench.engines import pipeline, tensor
from benchbench.engines.ddp import DDPEngine
from benchbench.engines.fsdp import FSDPEngine, ignored_settings
from benchbench.engines.torch_engine import TorchEngine

ENGINES = {"torch": TorchEngine, "ddp": DDPEngine, "fsdp": FSDPEngine, "deepspeed": "benchbench.engines.deepspeed_engine"}
DISTRIBUTED = ("ddp", "fsdp", "deepspeed")


def distributed(cfg) -> bool:
    """Whether the config runs under a process group (a distributed engine, or model parallelism)."""
    if cfg.engine in DISTRIBUTED or cfg.tp_size > 1 or cfg.pp_size > 1:
        return True
    return cfg.engine not in ENGINES and bool(getattr(get(cfg.engine), "DISTRIBUTED", False))


def get(name: str):
    """The engine class (or the DeepSpeed module's name) for `name`: a built-in, else a plug-in imported once."""
    return ENGINES[name] if name in ENGINES else plugins.load("engines", name, tuple(ENGINES))


def names() -> tuple[str, ...]:
    """The built-in engines' names, then the plug-ins' (nothing imported)."""
    return (*ENGINES, *plugins.names("engines", tuple(ENGINES)))


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
    reason = _parallel_reason(cfg)
    if reason:
        return reason
    if not distributed(cfg) and cfg.world_size > 1:
        return (f"world_size={cfg.world_size} needs a distributed engine (ddp, fsdp, deepspeed); engine={cfg.engine} runs "
                "one process")
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
    if cfg.engine not in ENGINES and hasattr(get(cfg.engine), "skip_reason"):
        return get(cfg.engine).skip_reason(cfg, dev)
    return None


def _parallel_reason(cfg) -> str | None:
    """Model-parallel settings this config cannot take, decided before launch: from the settings, and for
    a reference model from its hooks on the meta device (models.meta_model; a user's or a library's model
    is built only in workers, which ask model_reason once it is built)."""
    if cfg.tp_size == 1 and cfg.pp_size == 1:
        return "sequence_parallel needs tp_size > 1" if cfg.sequence_parallel else None
    if cfg.world_size % (cfg.tp_size * cfg.pp_size):
        return (f"world_size={cfg.world_size} is not a multiple of tp_size x pp_size = "
                f"{cfg.tp_size} x {cfg.pp_size}")
    reason = pipeline.skip_reason(cfg) if cfg.pp_size > 1 else tensor.skip_reason(cfg)
    if reason:
        return reason
    from benchbench import models

    model = models.meta_model(cfg)
    return model_reason(cfg, model) if model is not None else None


def model_reason(cfg, model) -> str | None:
    """Why `model` (built, or on meta) cannot be split as tp_size / pp_size ask: a missing hook, too few
    blocks, heads that do not divide."""
    if cfg.pp_size > 1:
        return pipeline.model_reason(cfg, model)
    if cfg.tp_size > 1:
        return tensor.model_reason(cfg, model)
    return None


def build(cfg, model, make_optimizer, dev, hooks=()):
    if cfg.pp_size > 1:
        return pipeline.PipelineEngine(model, make_optimizer, cfg, dev, hooks)
    if cfg.engine == "torch" and cfg.tp_size > 1:
        return tensor.TPEngine(model, make_optimizer, cfg, dev, hooks)
    cls = _deepspeed().DeepSpeedEngine if cfg.engine == "deepspeed" else get(cfg.engine)
    return cls(model, make_optimizer, cfg, dev, hooks)
