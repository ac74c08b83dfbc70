"""Techniques applied to a model that knows nothing of them, in one fixed order.

    fp8 -> attention -> checkpointing -> precision -> [plug-ins] -> compile

fp8 first, as torchtitan converts Linear layers to float8 before anything wraps them; attention
next, so checkpointing=selective wraps the chosen attention function; precision
after the model is restructured, so parameter casts see the final modules; compile last, over
everything. Gradient accumulation and the loss scaler are part of the engine's step; the
optimizer is built after the model is final (techniques/optimizer.py); the EMA of weights is a
hook the engine runs after each optimizer step (techniques/ema.py).

Each technique declares the settings it reads (SETTINGS, plugins/components.py), from which the run
config is composed, and asks the engine's capabilities (cfg.capability), never its name.

A package adds techniques through entry points of the group benchbench.techniques (docs/plugins.md):
a module with skip_reason(cfg, dev) and apply(model, cfg, dev) (optional: SETTINGS, fields(model, cfg),
hooks(model, cfg), model_reason(cfg, model)). A config names the ones it uses in `techniques: [...]`;
they apply in that order after precision and before compile, so compile sees them.
"""

from __future__ import annotations

from benchbench import plugins
from benchbench.techniques import attention, checkpointing, compile, ema, fp8, optimizer, precision  # noqa: F401

ORDER = (fp8, attention, checkpointing, precision, compile)
BUILTIN = ("fp8", "attention", "checkpointing", "precision", "compile", "optimizer", "ema")


def components() -> dict:
    """name -> technique module of the built-ins and the installed plug-ins (imported; one that cannot be
    imported is left out here: validation reports it where a config names it), for their SETTINGS."""
    out = {name: globals()[name] for name in BUILTIN}
    try:
        theirs = plugins.names("techniques", BUILTIN)
    except plugins.PluginError:  # a name clash: reported where the plug-ins are named or listed
        theirs = ()
    for name in theirs:
        try:
            out[name] = plugins.load("techniques", name, BUILTIN)
        except plugins.PluginError:
            continue
    return out


def chosen(cfg) -> tuple:
    """The plug-in techniques `cfg` names (`techniques: [...]`), imported once, in its order."""
    return tuple(plugins.load("techniques", n, BUILTIN) for n in getattr(cfg, "techniques", ()))


def chain(cfg) -> tuple:
    """Every technique `cfg` goes through, in order: the fixed ORDER with its plug-ins before compile."""
    return (*ORDER[:-1], *chosen(cfg), compile)


def apply(model, cfg, dev):
    for mod in chain(cfg):
        model = mod.apply(model, cfg, dev)
    return model


def skip_reason(cfg, dev) -> str | None:
    """Why a plug-in technique `cfg` names cannot run on `dev` (the built-ins are asked one by one)."""
    for mod in chosen(cfg):
        reason = mod.skip_reason(cfg, dev)
        if reason:
            return reason
    return None


def fields(model, cfg) -> dict:
    """What the techniques report in the row (fp8: the recipe and the converted layers; compile: its scope)."""
    out = {**fp8.fields(model, cfg), **compile.fields(model, cfg)}
    for mod in chosen(cfg):
        out.update(mod.fields(model, cfg) if hasattr(mod, "fields") else {})
    return out


def model_reason(cfg, model) -> str | None:
    """Why a technique cannot apply to `model` once it is built (a user's model is seen only then)."""
    for mod in chosen(cfg):
        reason = mod.model_reason(cfg, model) if hasattr(mod, "model_reason") else None
        if reason:
            return reason
    return compile.model_reason(cfg, model)


def step_hooks(model, cfg) -> list:
    """What runs after each optimizer step (EMA, then the plug-ins' hooks)."""
    return ema.hooks(model, cfg) + [h for mod in chosen(cfg) if hasattr(mod, "hooks") for h in mod.hooks(model, cfg)]
