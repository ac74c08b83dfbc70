"""torch DistributedDataParallel: every rank holds the whole model; gradients are all-reduced
in buckets during backward. Accumulation skips the all-reduce (no_sync) on all but the last
micro-batch, as a hand-written DDP loop does."""

from __future__ import annotations

import contextlib

import torch
from torch.nn.parallel import DistributedDataParallel

from benchbench.engines.torch_engine import TorchEngine


class DDPEngine(TorchEngine):
    def wrap(self, model, cfg, dev):
        return DistributedDataParallel(model, device_ids=[torch.cuda.current_device()] if dev.type == "cuda" else None)

    def sync_gradients(self, last_micro_batch: bool):
        return contextlib.nullcontext() if last_micro_batch else self.model.no_sync()
