"""Collectors measure around the timed window: start() before it, stop() after, fields() -> flat dict.

Step timing is not a collector: it marks every step (collectors/timing.py)."""

from __future__ import annotations

from benchbench.collectors.memory import Memory

COLLECTORS = {"memory": Memory}
DEFAULT = ("memory",)
