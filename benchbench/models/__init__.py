"""Reference models: name -> module with SIZES, ARGS and build(size, args, seq_len, image_size).

A model named `py:package.module` is the user's own module with the same three names; it is
imported in the worker (and once by validation), so it must be importable from the run's cwd or
PYTHONPATH.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from benchbench.models import gpt
from benchbench.models.common import Built

MODELS: dict[str, ModuleType] = {"gpt": gpt}


def module(name: str) -> ModuleType:
    if name.startswith("py:"):
        return importlib.import_module(name[3:])
    return MODELS[name]


def build(cfg) -> Built:
    return module(cfg.model).build(cfg.model_size, dict(cfg.model_args), cfg.seq_len, cfg.image_size)


def problems(cfg) -> list[tuple[str, str]]:
    """(field, message) for a config whose model, size or shape arguments do not exist."""
    if cfg.model.startswith("py:"):
        try:
            mod = module(cfg.model)
        except ImportError as e:
            return [("model", f"cannot import model module {cfg.model[3:]!r}: {e}")]
        missing = [n for n in ("SIZES", "ARGS", "build") if not hasattr(mod, n)]
        if missing:
            return [("model", f"model module {cfg.model[3:]!r} lacks {', '.join(missing)}")]
    elif cfg.model not in MODELS:
        return [("model", f"unknown model {cfg.model!r}; allowed: {', '.join(MODELS)}, or py:<module>")]
    else:
        mod = MODELS[cfg.model]
    out = []
    if cfg.model_size not in mod.SIZES:
        out.append(("model_size", f"unknown size {cfg.model_size!r} for model {cfg.model}; allowed: {', '.join(mod.SIZES)}"))
    for k in cfg.model_args:
        if k not in mod.ARGS:
            out.append(("model_args", f"unknown argument {k!r} for model {cfg.model}; allowed: {', '.join(mod.ARGS)}"))
    return out


__all__ = ["MODELS", "Built", "build", "problems"]


def supports(name: str, feature: str) -> bool:
    """Whether model `name` follows a convention techniques rely on. A model module may say
    SUPPORTS = {"checkpointing": bool, "attention": bool, "sequential_blocks": bool}; all
    default to True (the reference models follow them)."""
    try:
        mod = module(name)
    except (ImportError, KeyError):
        return True  # validation reports unknown models
    return bool(getattr(mod, "SUPPORTS", {}).get(feature, True))
