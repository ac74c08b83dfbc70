"""Engines run the training step: name -> class(model, optimizer, cfg, dev, hooks) with step(batches) -> loss."""

from __future__ import annotations

from benchbench.engines.torch_engine import TorchEngine

ENGINES = {"torch": TorchEngine}


def build(cfg, model, optimizer, dev, hooks=()):
    return ENGINES[cfg.engine](model, optimizer, cfg, dev, hooks)
