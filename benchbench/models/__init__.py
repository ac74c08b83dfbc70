"""Reference models: name -> module with SIZES, ARGS and build(size, args, seq_len, image_size).

A model named `py:package.module` is the user's own module with the same three names; it is
imported in the worker (and once by validation) from PYTHONPATH or the suite file's folder, never
from the current directory (models/user.py).

`timm:<name>`, `torchvision:<name>` and `hf:<model_type>` are library models with random weights
(models/adapters.py): module() returns an adapter object with the same three names and size
"default". The library is imported only when the model is built.

A model module may say which conventions techniques rely on it follows (see supports()):
SUPPORTS = {"checkpointing": bool, "attention": bool, "sequential_blocks": bool}, all True when
absent. The UNet says sequential_blocks: False (skips run between its blocks); library models
say all three are False (no `model.blocks`, no `attend` hook).

A package adds models through entry points of the group benchbench.models (docs/plugins.md): each names
a module or object with the same three names; it is found by name like a reference model and imported
the first time it is asked for.
"""

from __future__ import annotations

import functools
import json
from types import ModuleType

from benchbench import plugins
from benchbench.models import adapters, gpt, llama, unet, user, vit
from benchbench.models.common import Built

MODELS: dict[str, ModuleType] = {"gpt": gpt, "llama": llama, "vit": vit, "unet": unet}
ADAPTER_SPECS = ("timm:<name>", "torchvision:<name>", "hf:<model_type>")


def module(name: str) -> ModuleType | adapters.Adapter:
    if name.startswith("py:"):
        return user.load(name[3:])
    if adapters.is_adapter(name):
        return adapters.Adapter(name)
    if name in MODELS:
        return MODELS[name]
    return plugins.load("models", name, tuple(MODELS))  # KeyError when no plug-in has that name either


def names() -> tuple[str, ...]:
    """The reference models' names, then the plug-ins' (nothing imported)."""
    return (*MODELS, *plugins.names("models", tuple(MODELS)))


def registered() -> dict:
    """name -> module of every reference and plug-in model (the plug-ins imported): `benchbench list models`."""
    return {**MODELS, **plugins.load_all("models", tuple(MODELS))}


def supports(name: str, feature: str) -> bool:
    """Whether model `name` follows a convention techniques rely on. A model module may say
    SUPPORTS = {"checkpointing": bool, "attention": bool, "sequential_blocks": bool}; all
    default to True (the reference models follow them)."""
    try:
        mod = module(name)
    except Exception:
        return True  # validation reports unknown or broken models
    return bool(getattr(mod, "SUPPORTS", {}).get(feature, True))


def build(cfg) -> Built:
    return module(cfg.model).build(cfg.model_size, dict(cfg.model_args), cfg.seq_len, cfg.image_size)


def meta_model(cfg):
    """A reference model built on the meta device (no memory, no compute): what the engines ask of its
    parallelism hooks (tp_plan, pipeline_stage) before a launch. None for a user's or a library's model
    (its code runs in workers only: it may hang, crash or download) or one that does not build."""
    if cfg.model not in MODELS:
        return None
    return _meta(cfg.model, cfg.model_size, json.dumps(cfg.model_args, sort_keys=True), cfg.seq_len, cfg.image_size)


@functools.lru_cache(maxsize=16)
def _meta(name, size, args, seq_len, image_size):
    import torch

    try:
        with torch.device("meta"):
            return module(name).build(size, json.loads(args), seq_len, image_size).model
    except Exception:
        return None


def problems(cfg) -> list[tuple[str, str]]:
    """(field, message) for a config whose model, size or shape arguments do not exist."""
    if cfg.model.startswith("py:"):
        try:
            mod = module(cfg.model)
        except Exception as e:  # ImportError or whatever the module raised while importing: the user's to fix
            absent = isinstance(e, ModuleNotFoundError) and cfg.model[3:].startswith(e.name or "\0")
            todo = "put the module beside the suite file or its folder on PYTHONPATH" if absent else "fix the module"
            return [("model", f"cannot import model module {cfg.model[3:]!r}: {type(e).__name__}: {e} (looked in "
                              f"{user.where()}; {todo})")]
        missing = [n for n in ("SIZES", "ARGS", "build") if not hasattr(mod, n)]
        if missing:
            return [("model", f"model module {cfg.model[3:]!r} lacks {', '.join(missing)}")]
    elif adapters.is_adapter(cfg.model):
        mod = module(cfg.model)
        reason = mod.missing()
        if reason:
            return [("model", reason)]
    else:
        try:
            known = names()  # a plug-in that takes a reference model's name is an error whichever model is used
            if cfg.model in MODELS:
                return _shape_problems(cfg, MODELS[cfg.model])
            if cfg.model not in known:
                allowed = ", ".join((*known, *ADAPTER_SPECS))
                return [("model", f"unknown model {cfg.model!r}; allowed: {allowed}, or py:<module>")]
            mod = module(cfg.model)  # a plug-in's interface is checked as it is imported
        except plugins.PluginError as e:
            return [("model", str(e))]
    return _shape_problems(cfg, mod)


def _shape_problems(cfg, mod) -> list[tuple[str, str]]:
    out = []
    if cfg.model_size not in mod.SIZES:
        out.append(("model_size", f"unknown size {cfg.model_size!r} for model {cfg.model}; allowed: {', '.join(mod.SIZES)}"))
    for k in cfg.model_args:
        if k not in mod.ARGS:
            allowed = ", ".join(mod.ARGS) or "none"
            out.append(("model_args", f"unknown argument {k!r} for model {cfg.model}; allowed: {allowed}"))
    if not out and hasattr(mod, "check"):  # settings the model cannot take, or that would not change it
        out += mod.check(cfg.model_size, dict(cfg.model_args), cfg.seq_len, cfg.image_size)
    return out


__all__ = ["MODELS", "Built", "build", "meta_model", "module", "names", "problems", "registered", "supports"]
