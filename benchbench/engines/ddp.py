"""torch DistributedDataParallel: every rank holds the whole model; gradients are all-reduced
in buckets during backward. Accumulation skips the all-reduce (no_sync) on all but the last
micro-batch, as a hand-written DDP loop does."""

from __future__ import annotations

import contextlib

from benchbench.engines.torch_engine import TorchEngine
from benchbench.plugins.components import lazy

torch = lazy("torch")


class DDPEngine(TorchEngine):
    # DDP's flat gradient buckets sit beside .grad (gradient_as_bucket_view=False): the memory model counts them
    CAPABILITIES = {"needs_process_group": True, "keeps_gradient_buckets": True}

    def wrap(self, model, cfg, dev):
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=[torch.cuda.current_device()] if dev.type == "cuda" else None)

    def sync_gradients(self, last_micro_batch: bool):
        return contextlib.nullcontext() if last_micro_batch else self.model.no_sync()
