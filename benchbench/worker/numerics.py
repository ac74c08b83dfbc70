"""Numerics check: did a technique change the math?

With `numerics_steps: K` (suite: `numerics: true`, K = 50), the worker, after the timed window,
trains the config K steps from a fresh model (same seed) on a stream of fresh batches (same
samples every time), then a reference config the same K steps: fp32, eager attention, no
checkpointing, no compile, one process, and no accumulation (its one batch per step is the
config's micro-batches concatenated, so both see the same samples in each step). The suite may
change the reference (`numerics: {reference: {...}}`).

Recorded: both loss trajectories, the largest relative loss deviation over the K steps, and the
cosine similarity of the two total parameter updates (theta_K - theta_0, every parameter, fp32).
A config is `diverged` when the deviation exceeds its precision's tolerance or the cosine falls
below it (TOLERANCES; docs/numerics.md says how they were chosen), else `ok`; `unchecked` when the
check cannot apply (several ranks) and `error` when it failed (the timing row is kept either way).
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass

import torch

REFERENCE = dict(precision="fp32", attention="eager", checkpointing="none", compile="off", grad_accum=1, engine="torch",
                 world_size=1, nnodes=1, zero_stage=0, offload_optimizer=False, offload_param=False, ds_optimizer="client",
                 grad_accum_dtype=None, optimizer_impl="auto", fsdp_param_dtype=None, fsdp_reduce_dtype="fp32",
                 fsdp_reshard_after_forward=True)


@dataclass(frozen=True)
class Tolerance:
    max_rel_loss_dev: float   # largest |loss - reference loss| / reference loss over the K steps
    min_update_cosine: float  # cosine of the config's and the reference's total parameter update


# From measured deviations against the fp32 reference (docs/numerics.md; GPT-2 124M on an H100,
# 50 steps, 2026-11-24): the loss limit about 10x the largest deviation seen for the precision, the
# cosine limit 10x as far from 1. Rounding passes; a lost causal mask (cosine 0.81) does not.
TOLERANCES = {
    "fp32": Tolerance(1e-4, 0.999),     # seen: 1.7e-7, cosine 1.00000
    "tf32": Tolerance(3e-3, 0.997),     # seen: 2.5e-4, 0.99970
    "fp16": Tolerance(3e-3, 0.998),     # seen: 1.8e-4, 0.99986
    "bf16": Tolerance(1e-2, 0.96),      # seen: 8.2e-4, 0.99625
    "bf16-pure": Tolerance(3e-2, 0.95),  # seen: 3.1e-3, 0.99481 (its loss itself is a bf16 number: 2^-8 steps)
    # Measured against bf16 (Llama 1B, H200, 10 steps, 3 repeats; results/examples/llama-fp8-h200/eager): loss
    # within 4.7e-3 of bf16's (bf16 against itself: up to 6.7e-3), update cosine 0.76-0.79 (bf16 against itself:
    # 0.975-0.991). fp8's rounding turns the update as far as a lost causal mask does, so the cosine limit only
    # catches gross breaks and the loss limit (6x the deviation seen) carries the check.
    "fp8": Tolerance(3e-2, 0.6),
}


def reference_config(cfg):
    """The config the check compares with: REFERENCE, the suite's own reference settings, and the
    config's whole step batch in one micro-batch."""
    ref = cfg.model_copy(update={**REFERENCE, "batch_size": cfg.batch_size * cfg.grad_accum, "numerics_steps": 0,
                                 **dict(cfg.numerics_reference)})
    if ref.precision != "fp8" and "fp8_recipe" not in cfg.numerics_reference:  # the recipe is fp8's setting only
        ref = ref.model_copy(update={"fp8_recipe": "tensorwise"})
    return ref


def describe(ref, cfg) -> str:
    keys = [k for k in ("precision", "attention", "checkpointing", "compile", "grad_accum", "batch_size", "engine",
                        "optimizer_impl") if getattr(ref, k) != getattr(cfg, k) or k in ("precision", "attention")]
    return ", ".join(f"{k}={getattr(ref, k)}" for k in keys)


def _params(built) -> list[torch.Tensor]:
    return [p for p in built.model.parameters() if p.requires_grad]


def _snapshot(params) -> torch.Tensor:
    """All parameters as one flat fp32 CPU tensor (ZeRO-3: gathered first)."""
    try:
        from deepspeed.zero import GatheredParameters
    except ImportError:
        GatheredParameters = None
    if GatheredParameters is not None and any(hasattr(p, "ds_id") for p in params):
        with GatheredParameters(params):
            return torch.cat([p.detach().float().reshape(-1).cpu() for p in params])
    return torch.cat([p.detach().float().reshape(-1).cpu() for p in params])


def stream(cfg, built, steps: int, dev, concat: bool = False):
    """The check's data: a fresh batch every step (a model does not memorize a stream, so two
    correct trainings stay close), `grad_accum` micro-batches of `batch_size`, the same samples for
    the same cfg.seed; concatenated into one batch for the reference."""
    gen = torch.Generator().manual_seed(cfg.seed + 7919)
    for _ in range(steps):
        micro = [built.make_batch(cfg.batch_size, gen, torch.device("cpu")) for _ in range(cfg.grad_accum)]
        if concat:
            micro = [tuple(torch.cat([b[i] for b in micro]) for i in range(len(micro[0])))]
        yield [tuple(t.to(dev) for t in b) for b in micro]


def _train(ctx, built, batches) -> tuple[list[float], torch.Tensor]:
    params = _params(built)
    before = _snapshot(params)
    losses = [float(ctx.engine.step(b)) for b in batches]
    return losses, _snapshot(params) - before


def free(dev):
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()


def compare(losses, ref_losses, update, ref_update, precision: str) -> dict:
    """Deviation, cosine and the verdict, from two trajectories."""
    dev = max((abs(a - b) / abs(b) if b else math.inf) for a, b in zip(losses, ref_losses))
    if any(not math.isfinite(x) for x in losses):
        dev = math.inf
    u, r = update.double(), ref_update.double()   # fp32 sums of 10^8 products drift by whole percents
    denom = float(u.norm() * r.norm())
    cos = float(torch.dot(u, r)) / denom if denom > 0 else math.nan
    tol = TOLERANCES[precision]
    why = []
    if not dev <= tol.max_rel_loss_dev:
        why.append(f"max relative loss deviation {dev:.3g} > {tol.max_rel_loss_dev:g}")
    if not cos >= tol.min_update_cosine:
        why.append(f"update cosine {cos:.4f} < {tol.min_update_cosine:g}")
    return {"numerics": "diverged" if why else "ok", "numerics_max_rel_loss_dev": dev, "numerics_update_cosine": cos,
            "numerics_reason": f"{'; '.join(why)} ({precision} tolerance)" if why else None}


def check(cfg, setup) -> dict:
    """Run the check; `setup` is worker.setup (model, techniques, engine, batches for a config)."""
    steps = cfg.numerics_steps
    out = {"numerics_steps": steps}
    if cfg.world_size > 1:
        return {**out, "numerics": "unchecked", "numerics_reason": "the numerics check runs in one process (world_size 1)"}
    ref = reference_config(cfg)
    out["numerics_reference_config"] = describe(ref, cfg)
    try:
        ctx, built, _ = setup(cfg)
        dev = ctx.dev
        losses, update = _train(ctx, built, stream(cfg, built, steps, dev))
        del ctx, built
        free(dev)
        ctx, built, _ = setup(ref)
        ref_losses, ref_update = _train(ctx, built, stream(cfg, built, steps, dev, concat=True))
        del ctx, built
        free(dev)
    except Exception as e:  # the timing row stands; the check says why it could not finish
        kind = "out of memory" if isinstance(e, (torch.OutOfMemoryError, MemoryError)) else type(e).__name__
        return {**out, "numerics": "error", "numerics_reason": f"{kind}: {' '.join(str(e).split())[:300]}"}
    out.update(numerics_losses=losses, numerics_reference_losses=ref_losses)
    out.update(compare(losses, ref_losses, update, ref_update, cfg.precision))
    return out
