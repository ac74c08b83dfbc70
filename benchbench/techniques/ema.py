"""Exponential moving average of the weights, updated after every optimizer step.

θ_ema ← β·θ_ema + (1-β)·θ, with β = ema_decay (0.999-0.9999 in diffusion training). The
average is kept in fp32 whatever the parameters' precision: with β = 0.9999 an update is 1e-4
of the weight, below bf16's resolution (2⁻⁸), so a bf16 average would never move.
"""

from __future__ import annotations

from benchbench.plugins.components import Setting, lazy

torch = lazy("torch")

SETTINGS = (Setting("ema_decay", None, "EMA of weights after each step; null = off", type=float, optional=True, gt=0, lt=1),)


class EMA:
    def __init__(self, model, decay: float):
        self.decay = decay
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.shadow = [p.detach().float().clone() for p in self.params]
        self.same_dtype = all(p.dtype == torch.float32 for p in self.params)

    def update(self):
        with torch.no_grad():
            current = self.params if self.same_dtype else [p.float() for p in self.params]
            torch._foreach_lerp_(self.shadow, current, 1.0 - self.decay)


def skip_reason(cfg, dev) -> str | None:
    return None


def hooks(model, cfg) -> list:
    """Callables the engine runs after each optimizer step."""
    return [EMA(model, cfg.ema_decay).update] if cfg.ema_decay else []
