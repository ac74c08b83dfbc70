"""Every setting (sweep axis) as people read it: its allowed values in words, its default, its meaning.
The one source of `benchbench list axes` and of the settings table in docs/suites.md."""

from __future__ import annotations

import types
from typing import Literal, Union, get_args, get_origin

from benchbench import plugins
from benchbench.spec.config import NOT_IN_ID, PLUGGABLE, RunConfig


def _bound(f) -> str:
    out = []
    for m in f.metadata:
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            v = getattr(m, attr, None)
            if v is not None:
                whole = isinstance(v, int) and int in (f.annotation, *get_args(f.annotation))
                out.append(f"≥ {v + 1}" if attr == "gt" and whole else f"{sign} {v}")
    return (" " + " and ".join(out)) if out else ""


def kind(ann, f=None) -> str:
    """'integer ≥ 1', 'one of: fp32, bf16', 'integer ≥ 1, or auto', 'number > 0, or null', ..."""
    origin = get_origin(ann)
    if origin is Literal:
        return "one of: " + ", ".join(map(str, get_args(ann)))
    if origin in (Union, types.UnionType):
        parts = [a for a in get_args(ann) if a is not type(None)]
        words = [kind(a, f) for a in parts]
        if type(None) in get_args(ann):
            words.append("null")
        return ", or ".join(w.removeprefix("one of: ") if w.startswith("one of: ") and len(parts) > 1 else w for w in words)
    if origin is list:
        return "list of " + kind(get_args(ann)[0]).removeprefix("one of: ")
    if origin is dict:
        return "mapping of name to value"
    bound = _bound(f) if f is not None else ""
    return {int: "integer", float: "number", bool: "true or false", str: "text"}.get(ann, str(ann)) + bound


def rows() -> list[tuple[str, str, str, str]]:
    out = []
    for name, f in RunConfig.model_fields.items():
        default = f.default_factory() if f.default_factory else f.default
        if isinstance(default, bool):
            default = str(default).lower()
        elif default is None:
            default = "null"
        elif isinstance(default, list):
            default = "[" + ", ".join(map(str, default)) + "]" if default else "[]"
        elif isinstance(default, dict):
            default = "{}"
        allowed = kind(f.annotation, f)
        if name in ("measured_steps", "repeats"):
            allowed = "integer ≥ 1, or auto"
        elif name == "batch_size":
            allowed = "integer ≥ 1, or max"
        if name in PLUGGABLE:  # the installed plug-ins' names (docs/plugins.md)
            extra = plugins.names(*PLUGGABLE[name])
            allowed = "list of plug-in techniques" if name == "techniques" else allowed
            allowed += f"; plug-ins: {', '.join(extra)}" if extra else ""
        meaning = (f.description or "") + (" (not an axis: does not change what is measured)" if name in NOT_IN_ID else "")
        out.append((name, allowed, str(default), meaning))
    return out


def markdown() -> str:
    lines = ["| setting | allowed values | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{n}` | {k} | `{d}` | {m} |".replace("\n", " ") for n, k, d, m in rows()]
    return "\n".join(lines)
