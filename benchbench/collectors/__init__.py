"""Collectors measure around the timed window (collectors/base.py has the shape): name -> class.

Step timing is not a collector: it marks every step (collectors/timing.py). A suite picks
collectors with `collect: [...]`; profile: true and pyspy: true add profiler and pyspy.

A package adds collectors through entry points of the group benchbench.collectors (docs/plugins.md):
a Collector subclass, constructed with the Context; a suite selects it by name in `collect: [...]`.
"""

from __future__ import annotations

from benchbench import plugins
from benchbench.collectors.base import Collector, Context
from benchbench.collectors.flops import Flops
from benchbench.collectors.memory import Memory
from benchbench.collectors.nvml import NVML
from benchbench.collectors.profiler import Profiler
from benchbench.collectors.pyspy import PySpy
from benchbench.plugins.components import settings_of

COLLECTORS: dict[str, type[Collector]] = {"memory": Memory, "nvml": NVML, "flops": Flops, "profiler": Profiler, "pyspy": PySpy}
# A collector with a setting of its own is switched on by it (profile: true); the others are listed in collect:
LISTED = tuple(n for n, c in COLLECTORS.items() if not settings_of(c))


def names(cfg) -> list[str]:
    switched = [n for n, c in COLLECTORS.items() if any(getattr(cfg, s.name) for s in settings_of(c))]
    return list(cfg.collect) + switched


def build(cfg, ctx: Context) -> list[Collector]:
    return [get(n)(ctx) for n in names(cfg)]


def get(name: str) -> type[Collector]:
    """The collector class for `name`: a built-in, else a plug-in imported once."""
    return COLLECTORS[name] if name in COLLECTORS else plugins.load("collectors", name, tuple(COLLECTORS))


__all__ = ["COLLECTORS", "Collector", "Context", "build", "get", "names"]
