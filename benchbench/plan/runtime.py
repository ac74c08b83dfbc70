"""Rough run-time estimates before a sweep starts (for the 'this suite is meant for a GPU' notice)."""

from __future__ import annotations

import time

import torch

from benchbench import models

# Fraction of a plain matmul's FLOP rate that a whole training step reaches on a CPU (seen
# 0.3-0.6 for GPT shapes on 2 cores); an estimate, not a measurement.
CPU_STEP_EFFICIENCY = 0.4


def cpu_matmul_flops_per_s(seconds: float = 0.2) -> float:
    a = torch.randn(512, 512)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ a
        n += 1
    return n * 2 * 512**3 / (time.perf_counter() - t0)


def flops_per_step(cfg) -> float:
    """Analytic training FLOPs of one optimizer step; the model is built on the meta device."""
    with torch.device("meta"):
        built = models.build(cfg)
    return built.flops_per_sample * cfg.effective_batch


def cpu_seconds(configs) -> float:
    rate = cpu_matmul_flops_per_s() * CPU_STEP_EFFICIENCY
    total = 0.0
    for c in configs:
        steps = c.max_steps if c.measured_steps == "auto" else c.measured_steps
        repeats = c.max_repeats if c.repeats == "auto" else c.repeats
        warmup = 5 if c.warmup_steps == "auto" else c.warmup_steps  # auto: 3 to 30 steps, rarely more than 5
        total += flops_per_step(c) * (warmup + steps) * repeats / rate
    return total


def human_duration(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"
