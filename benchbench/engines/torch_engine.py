"""The plain single-process training step: what a hand-written loop does, nothing more.

One optimizer step = `grad_accum` micro-batches, each loss divided by grad_accum so the summed
gradients equal those of one batch grad_accum times larger; then optional clipping, the
(possibly scaled) optimizer step, and zero_grad(set_to_none=True). No host synchronization.
"""

from __future__ import annotations

import contextlib

from benchbench.plugins.components import lazy
from benchbench.techniques import precision

torch = lazy("torch")


class TorchEngine:
    # What it declares (plugins/components.py): settings of its own, capabilities techniques ask for
    SETTINGS = ()
    CAPABILITIES: dict = {}

    def __init__(self, model, make_optimizer, cfg, dev, hooks=()):
        self.model = self.wrap(model, cfg, dev)
        self.hooks = list(hooks)  # run after each optimizer step (EMA)
        self.optimizer = make_optimizer(self.model)  # after wrapping: FSDP replaces the parameters
        self.autocast = precision.autocast(cfg, dev)
        self.scaler = precision.grad_scaler(cfg, dev)
        self.grad_clip = cfg.grad_clip
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.scales: list[torch.Tensor] = []  # loss scale after each step (fp16), read after the window

    def wrap(self, model, cfg, dev):
        """Distributed engines wrap or shard the model here (before the optimizer is built)."""
        return model

    def sync_gradients(self, last_micro_batch: bool):
        """A context for one micro-batch's backward: distributed engines skip the gradient
        reduction on all but the last micro-batch of an accumulation."""
        return contextlib.nullcontext()

    def step(self, batches) -> torch.Tensor:
        n = len(batches)
        total = None
        for i, (x, y) in enumerate(batches):
            with self.sync_gradients(i == n - 1):
                with self.autocast():
                    loss = self.model(x, y)
                if n > 1:
                    loss = loss / n
                (self.scaler.scale(loss) if self.scaler else loss).backward()
            total = loss.detach() if total is None else total + loss.detach()
        if self.grad_clip is not None:
            if self.scaler:
                self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scales.append(self.scaler._scale.detach().clone())
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        for hook in self.hooks:
            hook()
        return total

    def fields(self) -> dict:
        """Loss-scaler facts over the steps taken so far (fp16 only)."""
        if not self.scales:
            return {}
        s = [self.scaler._init_scale]
        s += torch.stack(self.scales).float().cpu().tolist()
        return {"grad_scale_final": s[-1], "grad_scale_reductions": sum(b < a for a, b in zip(s, s[1:]))}
