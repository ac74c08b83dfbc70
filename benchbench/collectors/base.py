"""The shape every collector has, and what it gets to look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Context:
    """What a collector may inspect: the config, the device and the built training setup."""

    cfg: Any  # RunConfig
    dev: Any  # torch.device
    info: Any  # DeviceInfo
    model: Any = None
    optimizer: Any = None
    engine: Any = None
    batches: list = field(default_factory=list)
    artifacts: Path | None = None  # this (config, repeat)'s folder for files; None = keep none

    def artifact(self, name: str) -> Path | None:
        if self.artifacts is None:
            return None
        self.artifacts.mkdir(parents=True, exist_ok=True)
        return self.artifacts / name

    def relative(self, path: Path) -> str:
        """A path as rows store it: relative to the run directory (artifacts/<config>-r<k>/file)."""
        return str(Path("artifacts") / path.parent.name / path.name)


class Collector:
    """start() and stop() bracket the timed window (keep them cheap); after() runs once the
    window is over and may take its own steps (profiling, FLOP counting); fields() returns flat
    columns with units in their names. A collector that cannot work says why in a field and
    never fails the run."""

    name = ""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def start(self):
        pass

    def stop(self):
        pass

    def after(self):
        pass

    def fields(self) -> dict:
        return {}
