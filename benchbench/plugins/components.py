"""What a component (a model, technique, engine or collector; built-in or plug-in) declares about itself,
so that no other module repeats it:

    SETTINGS = (Setting("checkpoint_k", 2, "with checkpointing: every_k, checkpoint one block in k", type=int, gt=0),)
    CAPABILITIES = {"shards_parameters": True, "casts_params_to": lambda cfg: "bf16"}

The run config (spec/config.py) is composed from every component's SETTINGS; `benchbench list axes` and
the settings table of docs/suites.md are generated from it. Techniques and the memory model ask an
engine's CAPABILITIES through the config (`cfg.capability(name)`), never its name.

Declarations are read by the parent without torch (`benchbench list axes` starts in a fraction of a
second): a built-in component imports torch through `lazy("torch")`, which imports on first use.
This module imports nothing of benchbench.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

# Capabilities an engine may declare, and what an engine that declares none has (docs/plugins.md)
CAPABILITY_DEFAULTS: dict[str, Any] = {
    "needs_process_group": False,   # runs under torch.distributed (world_size > 1 through torchrun)
    "shards_parameters": False,     # parameters, gradients and optimizer states split over the ranks
    "keeps_gradient_buckets": False,  # a flat copy of the gradients beside .grad (DDP's buckets)
    "casts_params_to": None,        # cfg -> "bf16"/"fp16"/None: the engine casts parameters (no autocast then)
    "compile_scope": "model",       # compile_scope: auto compiles the model whole, or "blocks" one by one
    "takes_fp8": True,              # precision fp8 (torchao float8 Linear layers) runs under it
    "stores_params_in": None,       # cfg -> "bf16"/"fp16"/None: the engine stores 16-bit parameters itself
    "float8_all_gather": False,     # fp8_fsdp_all_gather: casts weights to fp8 before FSDP2's all-gather
}


@dataclass(frozen=True)
class Setting:
    """One setting of the run config, declared by the component that reads it.

    choices: the allowed words (a fixed list of values); `type` besides them: the numbers or text it
    also takes (int with choices ("auto",) reads "a whole number or auto"); optional: null allowed;
    gt/ge/lt/le: bounds of a number; in_id: False for a setting that does not change what is
    measured (left out of the config id, not a sweep axis)."""

    name: str
    default: Any
    doc: str = ""
    type: Any = None
    choices: tuple = ()
    optional: bool = False
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    in_id: bool = True
    default_factory: Any = None

    def annotation(self):
        """The type annotation pydantic validates the setting with."""
        parts = [t for t in (self.type,) if t is not None]
        if self.choices:
            parts.append(Literal[self.choices])
        if not parts:
            raise ValueError(f"setting {self.name}: give a type or choices")
        ann = parts[0]
        for p in parts[1:]:
            ann = ann | p
        return ann | None if self.optional else ann

    def field_kwargs(self) -> dict:
        """pydantic Field arguments: default, description and bounds."""
        out = {k: getattr(self, k) for k in ("gt", "ge", "lt", "le") if getattr(self, k) is not None}
        out["description"] = self.doc
        if self.default_factory is not None:
            out["default_factory"] = self.default_factory
        else:
            out["default"] = self.default
        return out


def settings_of(component) -> tuple[Setting, ...]:
    """A component's declared settings (none when it declares none)."""
    return tuple(getattr(component, "SETTINGS", ()) or ())


def capabilities_of(component) -> dict:
    """A component's capabilities over the defaults. An older plug-in engine's DISTRIBUTED = True still
    says it needs a process group."""
    own = dict(getattr(component, "CAPABILITIES", {}) or {})
    if getattr(component, "DISTRIBUTED", False):
        own.setdefault("needs_process_group", True)
    unknown = sorted(set(own) - set(CAPABILITY_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown capabilities {', '.join(unknown)}; known: {', '.join(CAPABILITY_DEFAULTS)}")
    return {**CAPABILITY_DEFAULTS, **own}


class lazy:  # noqa: N801 (reads as the import it stands for)
    """A module imported on first attribute access: `torch = lazy("torch")`."""

    def __init__(self, name: str):
        self.__dict__["_name"] = name

    def __getattr__(self, attr):
        mod = self.__dict__.get("_module")
        if mod is None:
            mod = self.__dict__["_module"] = importlib.import_module(self.__dict__["_name"])
        return getattr(mod, attr)
