"""Pipeline parallelism with torch.distributed.pipelining: every rank holds a contiguous share of the
blocks (the model's `pipeline_stage(stage, n_stages)` hook), the batch is split into pp_microbatches
micro-batches and the schedule (GPipe, 1F1B or interleaved 1F1B) runs their forwards and backwards
over the stages; then every rank steps the optimizer over its own parameters.

Interleaved 1F1B gives each rank v = stages_per_rank stages, looped: rank r holds stages r, r + p, ...
(the assignment torch's ScheduleInterleaved1F1B expects).

The bubble, the share of a step a rank waits for its neighbours:
  predicted (Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters
  Using Megatron-LM", sec. 2.2): (p - 1) / (m + p - 1) for GPipe and 1F1B, (p - 1) / (v·m + p - 1)
  interleaved (their bubble time over ideal time, (p-1)/m and (p-1)/(v·m), as a share of the step);
  measured: 1 - (time in the rank's own forward and backward chunks) / (time of schedule.step), the
  chunks timed where the schedule calls them (PipelineStage.forward_one_chunk / backward_one_chunk),
  with CUDA events on a GPU (a chunk's GPU time starts only after its receive is done) and
  perf_counter on a CPU, summed over the steps after warmup. The row has the median over ranks.

The loss is the last stage's (mean over micro-batches), broadcast to every rank each step (one scalar,
asynchronous on a GPU) so rank 0's row carries it.
"""

from __future__ import annotations

import time

from benchbench.engines.torch_engine import TorchEngine
from benchbench.plugins.components import Setting, lazy

torch = lazy("torch")

SCHEDULES = {"gpipe": "ScheduleGPipe", "1f1b": "Schedule1F1B", "interleaved_1f1b": "ScheduleInterleaved1F1B"}
SETTINGS = (
    Setting("pp_size", 1, "pipeline stages over ranks (torch.distributed.pipelining); > 1 needs engine torch and "
            "world_size == pp_size", type=int, gt=0),
    Setting("pp_schedule", "1f1b", "pipeline schedule: gpipe (all forwards, then all backwards), 1f1b, "
            "interleaved_1f1b (several stages per rank)", choices=tuple(SCHEDULES)),
    Setting("pp_microbatches", None, "micro-batches each batch is split into by the pipeline; must divide batch_size; "
            "null = 2 * pp_size", type=int, optional=True, gt=0),
    Setting("pp_stages_per_rank", None, "pipeline stages each rank holds; null = 1 (2 with interleaved_1f1b, which "
            "needs at least 2)", type=int, optional=True, gt=0),
)


def bubble_predicted(p: int, m: int, v: int = 1) -> float:
    """Idle share of a step for p stage ranks, m micro-batches, v stages per rank (Narayanan et al. 2021)."""
    return (p - 1) / (v * m + p - 1)


def skip_reason(cfg) -> str | None:
    """Why a pp_size > 1 config cannot run, from its settings alone."""
    p, m, v = cfg.pp_size, cfg.microbatches, cfg.stages_per_rank
    if cfg.engine != "torch":
        return f"pp_size={p} runs the pipeline engine: set engine: torch (engine={cfg.engine} with pipeline stages is not supported here)"
    if cfg.tp_size > 1:
        return f"pp_size={p} with tp_size={cfg.tp_size}: pipeline and tensor parallelism together are not supported here"
    if cfg.world_size != p:
        return f"pp_size={p} needs world_size={p} (one stage rank per process; data parallelism over pipelines is not supported here)"
    unsupported = [(cfg.grad_accum > 1, f"grad_accum={cfg.grad_accum} (raise pp_microbatches instead)"),
                   (cfg.grad_clip is not None, "grad_clip (the norm would need every stage's gradients)"),
                   (cfg.ema_decay is not None, "ema_decay"), (cfg.compile != "off", f"compile={cfg.compile}"),
                   (cfg.precision == "fp16", "precision=fp16 (the loss scaler)"),
                   (cfg.checkpointing == "sqrt", "checkpointing=sqrt (its segments would set the stage boundaries)")]
    for bad, what in unsupported:
        if bad:
            return f"pp_size={p} with {what} is not supported here"
    if cfg.pp_schedule == "interleaved_1f1b" and v < 2:
        return f"pp_schedule=interleaved_1f1b needs pp_stages_per_rank >= 2, not {v}"
    if cfg.pp_schedule != "interleaved_1f1b" and v > 1:
        return f"pp_stages_per_rank={v} needs pp_schedule=interleaved_1f1b; {cfg.pp_schedule} runs one stage per rank"
    if cfg.batch_size == "max":
        return "batch_size: max with pp_size > 1 is not supported here: the max-batch search runs one process"
    if cfg.batch_size % m:
        return f"pp_microbatches={m} does not divide batch_size={cfg.batch_size}"
    if cfg.pp_schedule == "1f1b" and m < p:
        return f"pp_schedule=1f1b needs pp_microbatches >= pp_size ({m} < {p})"
    rounds = max(1, m // p)
    if cfg.pp_schedule == "interleaved_1f1b" and m % rounds:
        return f"pp_schedule=interleaved_1f1b needs pp_microbatches a multiple of pp_size or below it, not {m} with pp_size={p}"
    return None


def model_reason(cfg, model) -> str | None:
    """Why this model cannot be split into pp_size x stages_per_rank stages."""
    p, v = cfg.pp_size, cfg.stages_per_rank
    if not hasattr(model, "pipeline_stage") or not hasattr(model, "logits_loss"):
        return f"model {cfg.model} has no pipeline_stage / logits_loss hooks: pp_size > 1 cannot split it"
    blocks = len(getattr(model, "blocks", ()))
    if blocks < p * v:
        return f"{p * v} pipeline stages ({p} ranks x {v}) need at least as many blocks; model {cfg.model} has {blocks}"
    return None


class Clock:
    """Busy spans inside each step: CUDA events on a GPU (read once, after the window), perf_counter on a CPU."""

    def __init__(self, dev):
        self.cuda = dev.type == "cuda"
        self.steps: list[tuple] = []  # (start, end, [(start, end), ...]) per step
        self.spans: list = []

    def mark(self):
        if not self.cuda:
            return time.perf_counter()
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        return e

    def timed(self, fn):
        def run(*args, **kwargs):
            start = self.mark()
            out = fn(*args, **kwargs)
            self.spans.append((start, self.mark()))
            return out
        return run

    def elapsed(self, a, b) -> float:
        return a.elapsed_time(b) / 1e3 if self.cuda else b - a

    def bubble(self, skip: int) -> float | None:
        steps = self.steps[skip:]
        if not steps:
            return None
        if self.cuda:
            torch.cuda.synchronize()
        wall = sum(self.elapsed(s, e) for s, e, _ in steps)
        busy = sum(self.elapsed(a, b) for _, _, spans in steps for a, b in spans)
        return max(0.0, 1.0 - busy / wall) if wall > 0 else None


class PipelineEngine(TorchEngine):
    def wrap(self, model, cfg, dev):
        import torch.distributed as dist
        from torch.distributed import pipelining

        inner = getattr(model, "_orig_mod", model)
        p, v, rank = cfg.pp_size, cfg.stages_per_rank, dist.get_rank()
        n = p * v
        ids = [rank + i * p for i in range(v)]
        device = torch.device("cuda", torch.cuda.current_device()) if dev.type == "cuda" else torch.device("cpu")
        parts = [inner.pipeline_stage(i, n) for i in ids]
        ours = {id(q) for part in parts for q in part.parameters()}
        for q in inner.parameters():  # every rank built the whole model (same seed): free the other stages' weights
            if id(q) not in ours:
                q.data = torch.empty(0, dtype=q.dtype, device=q.device)
        self.clock = Clock(dev)
        self.stages = [pipelining.PipelineStage(part, i, n, device) for part, i in zip(parts, ids)]
        for stage in self.stages:
            stage.forward_one_chunk = self.clock.timed(stage.forward_one_chunk)
            stage.backward_one_chunk = self.clock.timed(stage.backward_one_chunk)
        cls = getattr(pipelining, SCHEDULES[cfg.pp_schedule])
        self.schedule = cls(self.stages if v > 1 else self.stages[0], n_microbatches=cfg.microbatches,
                            loss_fn=inner.logits_loss)
        self.first, self.last, self.last_rank = 0 in ids, n - 1 in ids, (n - 1) % p
        self.device, self.cfg = device, cfg
        return torch.nn.ModuleList(parts)

    def step(self, batches) -> torch.Tensor:
        import torch.distributed as dist

        (x, y), = batches  # grad_accum is 1 (skip_reason): the micro-batches are the pipeline's
        losses: list = []
        self.clock.spans = []
        start = self.clock.mark()
        with self.autocast():
            self.schedule.step(*((x,) if self.first else ()), target=y if self.last else None,
                               losses=losses if self.last else None)
        self.clock.steps.append((start, self.clock.mark(), self.clock.spans))
        loss = torch.stack(losses).detach().float().mean() if self.last else torch.zeros((), device=self.device)
        dist.broadcast(loss, src=self.last_rank)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss

    def fields(self) -> dict:
        cfg = self.cfg
        return {"pp_bubble_predicted": bubble_predicted(cfg.pp_size, cfg.microbatches, cfg.stages_per_rank),
                "pp_bubble_measured": self.clock.bubble(getattr(self, "warmup_steps_taken", cfg.warmup_steps)),
                "pp_stage_ids": [s.stage_index for s in self.stages]}
