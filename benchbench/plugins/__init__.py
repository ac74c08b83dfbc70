"""Third-party plug-ins: Python entry points of the groups benchbench.models, .techniques, .engines,
.collectors and .metrics (docs/plugins.md).

An entry point names a module or an object with the interface the built-in plug-ins of its kind have
(INTERFACES). Names are read from the installed distributions' metadata without importing anything;
a plug-in is imported the first time it is asked for, once per process (the parent when it validates
or lists, the worker when it builds). A plug-in that cannot be imported, lacks part of its interface
or takes a built-in's name is the user's to fix: PluginError (exit 2), naming the distribution and
the entry point. This module imports nothing of benchbench but the errors: every layer may ask it.
"""

from __future__ import annotations

import functools
import importlib.metadata

from benchbench.basics.errors import PluginError  # noqa: F401  (plugins.PluginError: what callers catch)

KINDS = ("models", "techniques", "engines", "collectors", "metrics")
# What an entry point of each kind must provide (the built-ins' interface; docs/plugins.md)
INTERFACES = {
    "models": ("SIZES", "ARGS", "build"),
    "techniques": ("skip_reason", "apply"),
    "engines": ("step", "fields"),
    "collectors": ("start", "stop", "after", "fields"),
    "metrics": ("higher_is_better",),
}


def group(kind: str) -> str:
    return f"benchbench.{kind}"


def describe(ep) -> str:
    """'entry point toy = toybench.model (group benchbench.models) of distribution toybench 0.1'"""
    dist = getattr(ep, "dist", None)
    origin = f"distribution {dist.name} {dist.version}" if dist is not None else "an unnamed distribution"
    return f"entry point {ep.name} = {ep.value} (group {ep.group}) of {origin}"


@functools.cache
def _entry_points(kind: str) -> dict:
    if kind not in KINDS:
        raise ValueError(f"no plug-in kind {kind!r}; kinds: {', '.join(KINDS)}")
    out: dict = {}
    for ep in importlib.metadata.entry_points(group=group(kind)):
        if ep.name in out and out[ep.name].value != ep.value:
            raise PluginError(f"two plug-ins are named {ep.name!r}: {describe(out[ep.name])} and {describe(ep)}; "
                              "uninstall one or rename its entry point")
        out.setdefault(ep.name, ep)
    return out


def origin(kind: str, name: str) -> str:
    """Where the plug-in `name` of `kind` comes from, for its errors (describe())."""
    return describe(_entry_points(kind)[name])


def names(kind: str, builtins=()) -> tuple[str, ...]:
    """The plug-ins' names of `kind` (nothing imported); PluginError if one takes a built-in's name."""
    eps = _entry_points(kind)
    for name in eps:
        if name in builtins:
            raise PluginError(f"plug-in {name!r} clashes with the built-in {kind[:-1]} {name!r}: {describe(eps[name])}; "
                              "rename the entry point")
    return tuple(eps)


def load(kind: str, name: str, builtins=()):
    """The plug-in `name` of `kind`, imported once; KeyError if no plug-in has that name."""
    if name not in names(kind, builtins):
        raise KeyError(name)
    return _load(kind, name)


@functools.cache
def _load(kind: str, name: str):
    ep = _entry_points(kind)[name]
    try:
        obj = ep.load()
    except Exception as e:  # whatever the plug-in raised while importing: its author's to fix
        raise PluginError(f"plug-in {name!r} cannot be imported: {type(e).__name__}: {e} ({describe(ep)}); fix or "
                          "uninstall it") from None
    missing = [a for a in INTERFACES[kind] if not hasattr(obj, a)]
    if missing:
        raise PluginError(f"plug-in {name!r} lacks {', '.join(missing)}, which a {kind[:-1]} needs "
                          f"({', '.join(INTERFACES[kind])}; docs/plugins.md): {describe(ep)}")
    return obj


def load_all(kind: str, builtins=()) -> dict:
    """Every plug-in of `kind`, imported (for the listings)."""
    return {n: _load(kind, n) for n in names(kind, builtins)}


def reset() -> None:
    """Forget what was read and imported (tests that change sys.path)."""
    _entry_points.cache_clear()
    _load.cache_clear()
