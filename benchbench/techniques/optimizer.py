"""The optimizer and its implementation.

adamw  torch.optim.AdamW (betas 0.9/0.95, weight decay 0.1 as nanoGPT)
sgd    torch.optim.SGD with momentum 0.9
impl   auto (PyTorch's default: foreach on CUDA), fused (one kernel), foreach (multi-tensor), loop (per tensor)

With precision=bf16-pure the parameters are bf16; MasterCopy keeps fp32 copies that the inner
optimizer steps, and writes the rounded result back (the usual mixed-precision master weights).
"""

from __future__ import annotations

from benchbench.plugins.components import Setting, lazy
from benchbench.techniques import precision

torch = lazy("torch")

IMPL = {"auto": {}, "fused": {"fused": True}, "foreach": {"foreach": True}, "loop": {"foreach": False}}
SETTINGS = (
    Setting("optimizer", "adamw", "the optimizer", choices=("adamw", "sgd")),
    Setting("optimizer_impl", "auto", "the optimizer's kernel implementation", choices=tuple(IMPL)),
    Setting("lr", 3e-4, "learning rate", type=float, gt=0),
    Setting("grad_clip", None, "clip_grad_norm_ max norm; null = no clipping", type=float, optional=True, gt=0),
)


class MasterCopy:
    """Optimizer facade: fp32 master weights for low-precision parameters."""

    def __init__(self, params, make):
        self.low = [p for p in params if p.requires_grad]
        self.master = [p.detach().float().clone().requires_grad_(True) for p in self.low]
        self.inner = make(self.master)
        self.param_groups = self.inner.param_groups

    def step(self):
        with torch.no_grad():
            for lo, hi in zip(self.low, self.master):
                hi.grad = None if lo.grad is None else lo.grad.float()
            self.inner.step()
            torch._foreach_copy_(self.low, self.master)

    def zero_grad(self, set_to_none: bool = True):
        for p in self.low:
            p.grad = None
        self.inner.zero_grad(set_to_none=True)

    def state_dict(self):
        return self.inner.state_dict()


def skip_reason(cfg, dev) -> str | None:
    if cfg.optimizer_impl == "fused" and cfg.optimizer == "sgd" and dev.type == "cpu":
        return "optimizer=sgd with optimizer_impl=fused has no CPU kernel"
    return None


def build(model, cfg, dev):
    kw = dict(IMPL[cfg.optimizer_impl])

    def make(params):
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, **kw)
        return torch.optim.AdamW(params, lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.1, **kw)

    params = [p for p in model.parameters() if p.requires_grad]
    if precision.mode(cfg).params != "fp32":  # our 16-bit parameters (an engine that stores them keeps its own masters)
        return MasterCopy(params, make)
    return make(params)
