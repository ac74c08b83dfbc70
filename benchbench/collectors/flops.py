"""Hardware FLOPs: what one training step actually executes, counted once outside the window.

torch.utils.flop_counter.FlopCounterMode over one forward + backward of the (uncompiled) model
with the run's techniques, so recomputation by checkpointing is counted - unlike the model's
analytic FLOPs, which MFU uses and which are the same for every technique. hfu divides the
counted FLOPs per second by the same peak as mfu. FlopCounterMode counts matmuls, convolutions
and the attention kernels that register a formula (not PyTorch's CPU flash-attention kernel:
on a CPU, sdpa/flash attention FLOPs are missing from the count; eager attention is counted).
"""

from __future__ import annotations

from benchbench.plugins.components import lazy

torch, flop_counter = lazy("torch"), lazy("torch.utils.flop_counter")

from benchbench.collectors.base import Collector


class Flops(Collector):
    name = "flops"

    def after(self):
        ctx = self.ctx
        model = getattr(ctx.model, "_orig_mod", ctx.model)  # count the eager module, not a compiled one
        self.out = {}
        if ctx.cfg.pp_size > 1:  # the stages run only inside the schedule, with their neighbours
            self.out["flops_reason"] = "not counted under pipeline parallelism (pp_size > 1)"
            return
        try:
            counter = flop_counter.FlopCounterMode(display=False)
            with counter, torch.compiler.set_stance("force_eager"):  # compiled blocks run eager: every op counted
                for x, y in ctx.batches:
                    with ctx.engine.autocast():
                        loss = model(x, y)
                    loss.backward()
            self.out["hardware_flops_per_step"] = float(counter.get_total_flops()) * ctx.cfg.world_size
        except Exception as e:  # counting is a bonus; the run's measurements stand without it
            self.out["flops_reason"] = f"FlopCounterMode failed: {type(e).__name__}: {str(e)[:200]}"
        finally:
            for p in model.parameters():
                p.grad = None
            if ctx.dev.type == "cuda":
                torch.cuda.synchronize(ctx.dev)

    def fields(self) -> dict:
        return dict(getattr(self, "out", {}))
