"""Engines run the training step: name -> class(model, make_optimizer, cfg, dev, hooks) with
step(batches) -> loss and fields() -> dict. Each may wrap or shard the model before it builds
the optimizer with make_optimizer(model). Distributed engines run under torch.distributed
(the worker initializes the process group; world_size > 1 is launched through torchrun).

tp_size > 1 shards every layer over ranks (tensor.py: engine torch alone, engine fsdp on a 2-D mesh);
pp_size > 1 runs the pipeline engine (pipeline.py). See docs/parallelism.md.

A package adds engines through entry points of the group benchbench.engines (docs/plugins.md): a class
with the same constructor, step() and fields() (subclass TorchEngine); optional: SETTINGS and
CAPABILITIES (plugins/components.py; needs_process_group: it runs under a process group) and
skip_reason(cfg, dev), asked after the checks every engine gets."""

from __future__ import annotations

from benchbench import plugins
from benchbench.engines import pipeline, tensor
from benchbench.engines.ddp import DDPEngine
from benchbench.engines.deepspeed_engine import DeepSpeedEngine
from benchbench.engines.fsdp import FSDPEngine
from benchbench.engines.torch_engine import TorchEngine
from benchbench.plugins.components import capabilities_of, settings_of

# name -> engine class; each declares its SETTINGS and CAPABILITIES (plugins/components.py), optional
# skip_reason(cfg, dev), foreign_reason(cfg) and memory_states(cfg, n_params). Nothing here imports torch
# or deepspeed until an engine runs.
ENGINES = {"torch": TorchEngine, "ddp": DDPEngine, "fsdp": FSDPEngine, "deepspeed": DeepSpeedEngine}
# Settings of model parallelism, which every engine reads (tensor.py, pipeline.py)
PARALLEL = (tensor, pipeline)


def distributed(cfg) -> bool:
    """Whether the config runs under a process group (a distributed engine, or model parallelism)."""
    return cfg.tp_size > 1 or cfg.pp_size > 1 or bool(capabilities(cfg.engine)["needs_process_group"])


def get(name: str):
    """The engine class for `name`: a built-in, else a plug-in imported once."""
    return ENGINES[name] if name in ENGINES else plugins.load("engines", name, tuple(ENGINES))


def names() -> tuple[str, ...]:
    """The built-in engines' names, then the plug-ins' (nothing imported)."""
    return (*ENGINES, *plugins.names("engines", tuple(ENGINES)))


def capabilities(name: str) -> dict:
    """What engine `name` declares it does, over plugins.components.CAPABILITY_DEFAULTS."""
    return capabilities_of(get(name))


def components() -> dict:
    """name -> what declares settings: the model-parallel modules, every engine (the plug-ins' imported;
    one that cannot be imported is left out here: validation reports it where a config names it)."""
    out = {"tensor": tensor, "pipeline": pipeline, **ENGINES}
    try:
        theirs = plugins.names("engines", tuple(ENGINES))
    except plugins.PluginError:  # a name clash: reported where the plug-ins are named or listed
        theirs = ()
    for name in theirs:
        try:
            out[name] = get(name)
        except plugins.PluginError:
            continue
    return out


def settings() -> tuple:
    return tuple(s for c in components().values() for s in settings_of(c))


def skip_reason(cfg, dev) -> str | None:
    for name, engine in components().items():  # another engine's settings mean nothing to this one
        if name != cfg.engine and name not in ("tensor", "pipeline"):
            reason = _foreign(name, engine, cfg)
            if reason:
                return reason
    if cfg.precision == "fp8" and not capabilities(cfg.engine)["takes_fp8"]:
        return (f"engine={cfg.engine} with precision=fp8 is not supported here (torchao float8 runs under "
                f"{', '.join(n for n in ENGINES if capabilities(n)['takes_fp8'])})")
    reason = _parallel_reason(cfg)
    if reason:
        return reason
    if not distributed(cfg) and cfg.world_size > 1:
        dist = ", ".join(n for n in ENGINES if capabilities(n)["needs_process_group"])
        return (f"world_size={cfg.world_size} needs a distributed engine ({dist}); engine={cfg.engine} runs "
                "one process")
    if cfg.world_size % cfg.nnodes:
        return f"world_size={cfg.world_size} cannot be spread evenly over nnodes={cfg.nnodes}"
    per_node = cfg.world_size // cfg.nnodes
    if dev.type == "cuda" and dev.count and per_node > dev.count:
        return f"world_size={cfg.world_size} over nnodes={cfg.nnodes} needs {per_node} GPUs per machine; this one has {dev.count}"
    own = getattr(get(cfg.engine), "skip_reason", None)
    return own(cfg, dev) if own is not None else None


def _foreign(name: str, engine, cfg) -> str | None:
    """Why `cfg` (of another engine) cannot set `engine`'s settings: its own words, else which ones."""
    if hasattr(engine, "foreign_reason"):
        return engine.foreign_reason(cfg)
    names = [s.name for s in settings_of(engine) if getattr(cfg, s.name, s.default) != s.default]
    if not names:
        return None
    return f"{' / '.join(names)} {'are settings' if len(names) > 1 else 'is a setting'} of engine {name}; engine={cfg.engine}"


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
    return get(cfg.engine)(model, make_optimizer, cfg, dev, hooks)
