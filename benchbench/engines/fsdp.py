"""PyTorch FSDP2 (torch.distributed.fsdp.fully_shard) as torchtitan's apply_fsdp shards: parameters,
gradients and optimizer state sharded over the ranks, one FSDP unit per block plus the root
(embeddings, head), each under one MixedPrecisionPolicy:

  fsdp_param_dtype            the dtype parameters are gathered and computed in (null: bf16 for precision
                              bf16 / fp8, else fp32); with bf16 there is no autocast (techniques/precision.py):
                              FSDP2 casts, the optimizer steps the fp32 shards
  fsdp_reduce_dtype           the dtype of the gradient reduce-scatter (fp32 as torchtitan's default)
  fsdp_reshard_after_forward  free the gathered parameters after forward; the last block never is (backward
                              gathers it again at once), as torchtitan

Accumulation skips the reduce-scatter on all but the last micro-batch. The row names the policy
(fsdp_mp_policy).

With tp_size > 1 the ranks form a (dp, tp) mesh: the model is first tensor-parallelized over "tp"
(engines/tensor.py), then fully_shard shards its DTensor parameters over "dp" (FSDP2's 2-D mode)."""

from __future__ import annotations

import contextlib

from benchbench.engines.torch_engine import TorchEngine
from benchbench.plugins.components import Setting, lazy
from benchbench.techniques import precision

torch = lazy("torch")

SETTINGS = (
    Setting("fsdp_param_dtype", None, "engine fsdp: MixedPrecisionPolicy param_dtype (the dtype compute sees; the "
            "optimizer keeps fp32); null = bf16 for precision bf16 / fp8, else fp32", choices=("fp32", "bf16"),
            optional=True),
    Setting("fsdp_reduce_dtype", "fp32", "engine fsdp: MixedPrecisionPolicy reduce_dtype (gradient reduce-scatter)",
            choices=("fp32", "bf16")),
    Setting("fsdp_reshard_after_forward", True, "engine fsdp: free the gathered parameters after forward "
            "(ZeRO-3-like); false keeps them to backward (ZeRO-2-like)", type=bool),
)


def fsdp_param_dtype(cfg) -> str:
    """The dtype FSDP2 gathers parameters in: the setting, else bf16 for bf16 and fp8, else fp32."""
    return cfg.fsdp_param_dtype or ("bf16" if precision.mode(cfg).autocast == "bf16" else "fp32")


def ignored_settings(cfg) -> list[str]:
    """FSDP settings set away from their defaults (they mean nothing to another engine)."""
    return [s.name for s in SETTINGS if getattr(cfg, s.name) != s.default]


def foreign_reason(cfg) -> str | None:
    """Why a config of another engine cannot set FSDP's settings."""
    names = ignored_settings(cfg)
    if not names:
        return None
    return f"{' / '.join(names)} {'are FSDP settings' if len(names) > 1 else 'is an FSDP setting'}; engine={cfg.engine}"


def skip_reason(cfg, dev) -> str | None:
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
    except ImportError:
        return f"engine=fsdp needs torch.distributed.fsdp.fully_shard (FSDP2); torch {torch.__version__} lacks it"
    if cfg.precision in ("fp16", "bf16-pure"):
        # bf16-pure's master copy would shadow FSDP's sharded parameters; fsdp_param_dtype bf16 is the FSDP way
        return (f"engine=fsdp with precision={cfg.precision} is not supported here; use bf16 (the FSDP2 bf16 policy: "
                f"bf16 compute, fp32 master weights) or fp32")
    return None


def policy(cfg) -> str:
    return (f"param={fsdp_param_dtype(cfg)},reduce={cfg.fsdp_reduce_dtype},"
            f"reshard={str(cfg.fsdp_reshard_after_forward).lower()}")


class FSDPEngine(TorchEngine):
    SETTINGS = SETTINGS
    CAPABILITIES = {
        "needs_process_group": True, "shards_parameters": True, "float8_all_gather": True,
        "casts_params_to": lambda cfg: "bf16" if fsdp_param_dtype(cfg) == "bf16" else None,  # no autocast then
        "compile_scope": "blocks",  # its per-block hooks run outside compiled code, as torchtitan trains
    }
    skip_reason = staticmethod(skip_reason)
    foreign_reason = staticmethod(foreign_reason)

    def wrap(self, model, cfg, dev):
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        self.policy = policy(cfg)
        mp = MixedPrecisionPolicy(param_dtype=precision.torch_dtype(fsdp_param_dtype(cfg)),
                                  reduce_dtype=precision.torch_dtype(cfg.fsdp_reduce_dtype))
        reshard = cfg.fsdp_reshard_after_forward
        inner = getattr(model, "_orig_mod", model)  # shard the modules under a torch.compile wrapper
        dp = None
        if cfg.tp_size > 1:
            from benchbench.engines import tensor

            grid = tensor.mesh(cfg, dev)
            tensor.parallelize(model, grid["tp"], cfg.sequence_parallel)
            dp = grid["dp"]
        blocks = list(getattr(inner, "blocks", None) or getattr(inner, "layers", None) or [])
        for i, block in enumerate(blocks):
            fully_shard(block, mesh=dp, mp_policy=mp, reshard_after_forward=reshard and i < len(blocks) - 1)
        fully_shard(inner, mesh=dp, mp_policy=mp, reshard_after_forward=reshard)
        return model

    @contextlib.contextmanager
    def sync_gradients(self, last_micro_batch: bool):
        inner = getattr(self.model, "_orig_mod", self.model)
        inner.set_requires_gradient_sync(last_micro_batch)
        try:
            yield
        finally:
            inner.set_requires_gradient_sync(True)

    def fields(self) -> dict:
        return {**super().fields(), "fsdp_mp_policy": self.policy}
