"""PyTorch FSDP2 (torch.distributed.fsdp.fully_shard): parameters, gradients and optimizer state
sharded over the ranks, one FSDP unit per block plus the root (embeddings, head), as torchtitan
shards. Precision stays the techniques' autocast, so fsdp and ddp compare at equal settings.
Accumulation skips the reduce-scatter on all but the last micro-batch.

With tp_size > 1 the ranks form a (dp, tp) mesh: the model is first tensor-parallelized over "tp"
(engines/tensor.py), then fully_shard shards its DTensor parameters over "dp" (FSDP2's 2-D mode)."""

from __future__ import annotations

import contextlib

from benchbench.engines.torch_engine import TorchEngine


def skip_reason(cfg, dev) -> str | None:
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
    except ImportError:
        import torch

        return f"engine=fsdp needs torch.distributed.fsdp.fully_shard (FSDP2); torch {torch.__version__} lacks it"
    if cfg.precision in ("fp16", "bf16-pure"):
        return f"engine=fsdp with precision={cfg.precision} is not supported here; use bf16 (autocast) or fp32"
    return None


class FSDPEngine(TorchEngine):
    def wrap(self, model, cfg, dev):
        from torch.distributed.fsdp import fully_shard

        inner = getattr(model, "_orig_mod", model)  # shard the modules under a torch.compile wrapper
        dp = None
        if cfg.tp_size > 1:
            from benchbench.engines import tensor

            grid = tensor.mesh(cfg, dev)
            tensor.parallelize(model, grid["tp"], cfg.sequence_parallel)
            dp = grid["dp"]
        for block in getattr(inner, "blocks", []):
            fully_shard(block, mesh=dp)
        fully_shard(inner, mesh=dp)
        return model

    @contextlib.contextmanager
    def sync_gradients(self, last_micro_batch: bool):
        inner = getattr(self.model, "_orig_mod", self.model)
        inner.set_requires_gradient_sync(last_micro_batch)
        try:
            yield
        finally:
            inner.set_requires_gradient_sync(True)
