"""torch.compile of the whole model (the loss included); compile time is the first warmup step."""

from __future__ import annotations

import torch


def skip_reason(cfg, dev) -> str | None:
    return None


def apply(model, cfg, dev):
    if cfg.compile == "off":
        return model
    return torch.compile(model, mode=None if cfg.compile == "default" else cfg.compile)
