"""DeepSpeed: deepspeed.initialize with ZeRO stage 0-3, optional CPU offload, bucket settings.

Precision is DeepSpeed's own (no autocast on top): bf16 -> {"bf16": {"enabled": true}} (bf16
parameters, fp32 master weights in the optimizer), fp16 -> {"fp16": {"enabled": true}} with
dynamic loss scaling, fp32 -> neither. tf32 and bf16-pure are benchbench-only precisions and
are skipped. Accumulation and clipping go through the config (gradient_accumulation_steps,
gradient_clipping); engine.backward scales each micro-batch's loss, engine.step steps the
optimizer at the accumulation boundary.

fields(): the settings in effect (DeepSpeed's defaults read back from the engine, never hidden),
the model-state bytes this rank holds (parameters: its partition under ZeRO-3; optimizer state:
the fp32 master partitions and Adam moments of the inner optimizer), and the ZeRO paper's
prediction (Rajbhandari et al. 2020, mixed-precision Adam, Ψ parameters, N ranks: stage 0 16Ψ,
1 4Ψ+12Ψ/N, 2 2Ψ+14Ψ/N, 3 16Ψ/N bytes; with fp32 training, 4Ψ parameters + 4Ψ gradients + 8Ψ
moments: 16Ψ, 8Ψ+8Ψ/N, 4Ψ+12Ψ/N, 16Ψ/N).
"""

from __future__ import annotations

import importlib.util
import os

from benchbench.engines import deepspeed_memory
from benchbench.plugins.components import Setting, lazy

torch = lazy("torch")

# zero_optimization knobs passed through as set (null = DeepSpeed's default, read back into the row)
ZERO_KNOBS = ("reduce_bucket_size", "allgather_bucket_size", "stage3_prefetch_bucket_size", "stage3_max_live_parameters",
              "contiguous_gradients")
SETTINGS = (
    Setting("zero_stage", 0, "DeepSpeed ZeRO stage", type=int, ge=0, le=3),
    Setting("offload_optimizer", False, "ZeRO: optimizer state on the CPU", type=bool),
    Setting("offload_param", False, "ZeRO-3: parameters on the CPU", type=bool),
    Setting("ds_optimizer", "client", "client: the torch optimizer; or DeepSpeed's FusedAdam / CPUAdam",
            choices=("client", "fused_adam", "cpu_adam")),
    *(Setting(k, None, type=int, optional=True, gt=0) for k in ZERO_KNOBS[:4]),
    Setting("contiguous_gradients", None, type=bool, optional=True),
    Setting("grad_accum_dtype", None, "DeepSpeed data_types.grad_accum_dtype: the dtype gradients are kept in; null "
            "= the model's", choices=("fp32", "bf16", "fp16"), optional=True),
)


def foreign_reason(cfg) -> str | None:
    """Why a config of another engine cannot set the ZeRO settings."""
    if cfg.zero_stage or cfg.offload_optimizer or cfg.offload_param:
        return f"zero_stage / offload are DeepSpeed settings; engine={cfg.engine}"
    return None


def skip_reason(cfg, dev) -> str | None:
    if importlib.util.find_spec("deepspeed") is None:
        return "engine=deepspeed needs the package 'deepspeed' (pip install 'benchbench[deepspeed]')"
    if cfg.precision in ("tf32", "bf16-pure"):
        return f"engine=deepspeed maps precision to DeepSpeed's fp32/fp16/bf16; precision={cfg.precision} has no equivalent"
    if cfg.precision == "fp16" and dev.type == "cpu":
        return "engine=deepspeed with fp16 needs a GPU"
    if cfg.compile != "off":
        return "engine=deepspeed with compile is not supported here (DeepSpeed has its own engine.compile)"
    if cfg.offload_param and cfg.zero_stage != 3:
        return f"offload_param needs zero_stage=3 (zero_stage={cfg.zero_stage})"
    if cfg.offload_optimizer and cfg.zero_stage == 0:
        return "offload_optimizer needs zero_stage >= 1"
    if cfg.ds_optimizer == "fused_adam" and dev.type == "cpu":
        return "ds_optimizer=fused_adam is a CUDA kernel"
    if cfg.grad_accum_dtype not in (None, cfg.precision):
        if cfg.precision == "fp32":
            return f"grad_accum_dtype={cfg.grad_accum_dtype} with precision=fp32: DeepSpeed keeps fp32 gradients in fp32"
        if cfg.zero_stage == 0:  # seen: NotImplementedError "unsupported mix of model_dtype and grad_accum_dtype"
            return (f"grad_accum_dtype={cfg.grad_accum_dtype} with precision={cfg.precision} needs zero_stage >= 1 "
                    "(DeepSpeed's BF16_Optimizer); at stage 0 DeepSpeed refuses the mix")
    if (cfg.offload_optimizer or cfg.offload_param) and cfg.ds_optimizer == "client":
        return ("offload with a client (torch) optimizer is refused by DeepSpeed (zero_force_ds_cpu_optimizer); "
                "use ds_optimizer=cpu_adam")
    if cfg.ds_optimizer != "client" and cfg.optimizer != "adamw":
        return f"ds_optimizer={cfg.ds_optimizer} is Adam; optimizer={cfg.optimizer}"
    return None


def ds_config(cfg) -> dict:
    zero: dict = {"stage": cfg.zero_stage}
    for name in ZERO_KNOBS:
        if getattr(cfg, name) is not None:
            zero[name] = getattr(cfg, name)
    if cfg.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
    if cfg.offload_param:
        zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    config = {
        "train_micro_batch_size_per_gpu": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "train_batch_size": cfg.batch_size * cfg.grad_accum * cfg.world_size,
        "zero_optimization": zero,
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }
    if cfg.grad_accum_dtype is not None:
        config["data_types"] = {"grad_accum_dtype": cfg.grad_accum_dtype}
    if cfg.grad_clip is not None:
        config["gradient_clipping"] = cfg.grad_clip
    if cfg.precision == "bf16":
        config["bf16"] = {"enabled": True}
    elif cfg.precision == "fp16":
        config["fp16"] = {"enabled": True, "loss_scale": 0, "initial_scale_power": 16}
    if cfg.ds_optimizer != "client":
        config["optimizer"] = {"type": "AdamW", "params": {"lr": cfg.lr, "betas": [0.9, 0.95], "weight_decay": 0.1}}
        if cfg.ds_optimizer == "cpu_adam":
            zero.setdefault("offload_optimizer", {"device": "cpu", "pin_memory": True})
    return config


def predicted_model_state_bytes(n_params: int, ranks: int, stage: int, mixed: bool) -> float:
    psi, n = n_params, ranks
    if mixed:
        return {0: 16 * psi, 1: 4 * psi + 12 * psi / n, 2: 2 * psi + 14 * psi / n, 3: 16 * psi / n}[stage]
    return {0: 16 * psi, 1: 8 * psi + 8 * psi / n, 2: 4 * psi + 12 * psi / n, 3: 16 * psi / n}[stage]


class DeepSpeedEngine:
    SETTINGS = SETTINGS
    # DeepSpeed stores bf16/fp16 parameters itself (no autocast on top); fp8 runs under torch, ddp, fsdp only
    CAPABILITIES = {"needs_process_group": True, "takes_fp8": False,
                    "stores_params_in": lambda cfg: cfg.precision if cfg.precision in ("bf16", "fp16") else None}
    skip_reason = staticmethod(skip_reason)
    foreign_reason = staticmethod(foreign_reason)
    memory_states = staticmethod(deepspeed_memory.predicted_states)

    def __init__(self, model, make_optimizer, cfg, dev, hooks=()):
        if dev.type == "cpu":
            os.environ.setdefault("DS_ACCELERATOR", "cpu")
        import deepspeed

        self.cfg, self.hooks = cfg, list(hooks)
        self.n_params = sum(p.numel() for p in model.parameters())
        self.config = ds_config(cfg)
        client = make_optimizer(model) if cfg.ds_optimizer == "client" else None
        self.model, self.optimizer, _, _ = deepspeed.initialize(
            model=model, optimizer=client, model_parameters=None if client else model.parameters(), config=self.config)
        self.autocast = _NoAutocast  # DeepSpeed casts the model itself

    def step(self, batches) -> torch.Tensor:
        self._batches = batches  # for the memory probe in fields()
        total = None
        for x, y in batches:
            loss = self.model(x, y)
            self.model.backward(loss)
            self.model.step()
            total = loss.detach() if total is None else total + loss.detach()
        for hook in self.hooks:
            hook()
        return total / len(batches)

    def fields(self) -> dict:
        cfg, zc = self.cfg, self.model.zero_optimization_stage()
        out = {"zero_stage_in_effect": zc, "deepspeed_precision": cfg.precision,
               "ds_optimizer_class": type(self.optimizer).__name__}
        zero = self.model._config.zero_config
        for name in ZERO_KNOBS:
            value = getattr(zero, name, getattr(zero, name.replace("stage3_", ""), None))  # pydantic aliases
            out[f"ds_{name}"] = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        out["ds_grad_accum_dtype"] = str(self.model.get_data_types()[1]).removeprefix("torch.")
        out.update(self._probe())
        mixed = cfg.precision in ("bf16", "fp16")
        out["predicted_model_state_bytes"] = predicted_model_state_bytes(self.n_params, cfg.world_size, zc, mixed)
        return out

    def _probe(self) -> dict:
        """One more step, measured in two phases: forward+backward, then the optimizer step. Between
        them (after the last backward) this rank holds parameters, gradients, optimizer state and
        DeepSpeed's buffers at once: breakdown() attributes them. On a GPU each phase's transient
        memory is its allocator peak above what was allocated when it began: activations and
        gradient buckets in the first, temporaries of the step (e.g. fp32 gradient copies) in the second."""
        batches = getattr(self, "_batches", None)
        if not batches:
            return {}
        dev = next(self.model.module.parameters()).device
        cuda = dev.type == "cuda"
        out = {}
        if cuda:
            torch.cuda.synchronize(dev)
            torch.cuda.reset_peak_memory_stats(dev)
            before = torch.cuda.memory_allocated(dev)
        for i, (x, y) in enumerate(batches):
            self.model.backward(self.model(x, y))
            if i < len(batches) - 1:
                self.model.step()
        out.update(deepspeed_memory.breakdown(self.model.module, self.optimizer, dev.type))
        if cuda:
            torch.cuda.synchronize(dev)
            after = torch.cuda.memory_allocated(dev)
            out["fwd_bwd_transient_bytes"] = torch.cuda.max_memory_allocated(dev) - before
            out["allocated_after_backward_bytes"] = after
            held = sum(out[f"zero_{r}_bytes"] for r in ("params", "grads", "optimizer_state", "buffers"))
            out["unattributed_after_backward_bytes"] = after - held
            torch.cuda.reset_peak_memory_stats(dev)
        self.model.step()
        if cuda:
            torch.cuda.synchronize(dev)
            out["optimizer_step_transient_bytes"] = torch.cuda.max_memory_allocated(dev) - after
        return out


class _NoAutocast:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
