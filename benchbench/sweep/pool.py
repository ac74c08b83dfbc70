"""The GPU pool: which (config, repeat) runs next and on which GPUs of this machine.

Configs run concurrently, each on GPUs no other worker holds: a one-GPU config on one free GPU
(CUDA_VISIBLE_DEVICES names it), a `world_size: k` config on k free GPUs. Within each round of
repeats the configs that need most GPUs go first, so the large ones are not left waiting behind a
trickle of small ones; a job waits at the head of the queue until enough GPUs are free (no job
overtakes it), so the interleaving of repeats is kept. The pool knows nothing of processes: the
runner asks `next_job()` for what to start and calls `finished()`; tests drive it with fake indices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


class PoolError(ValueError):
    """A --gpus value that names no usable GPU: the message lists the GPUs there are."""


def parse_gpus(spec: str | None, visible: int) -> list[str]:
    """--gpus all | N (the first N) | 0,2,3 -> GPU ids as CUDA_VISIBLE_DEVICES takes them. Ids are the
    parent's own view: under CUDA_VISIBLE_DEVICES=4,5 the pool's GPU 0 is physical GPU 4."""
    parent = [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g.strip()]
    ids = parent[:visible] if parent else [str(i) for i in range(visible)]
    if spec in (None, "", "all"):
        return ids
    if spec.isdigit() and "," not in spec:
        n = int(spec)
        if not 1 <= n <= len(ids):
            raise PoolError(f"--gpus {spec}: this machine has {len(ids)} visible GPUs ({', '.join(ids) or 'none'})")
        return ids[:n]
    chosen = [g.strip() for g in spec.split(",") if g.strip()]
    bad = [g for g in chosen if not g.isdigit() or int(g) >= len(ids)]
    if bad or len(set(chosen)) != len(chosen):
        raise PoolError(f"--gpus {spec}: use 'all', a count, or distinct indices among 0..{len(ids) - 1} "
                        f"(visible GPUs: {', '.join(ids) or 'none'})")
    return [ids[int(g)] for g in chosen]


def order(todo: list[tuple]) -> list[tuple]:
    """Rounds of repeats as pending() gives them, each round's configs by GPUs needed, most first."""
    rounds: dict[int, list] = {}
    for cfg, repeat in todo:
        rounds.setdefault(repeat, []).append((cfg, repeat))
    return [job for r in sorted(rounds) for job in sorted(rounds[r], key=lambda j: -gpus_needed(j[0]))]


def gpus_needed(cfg) -> int:
    """GPUs of this machine a config holds: its ranks on this node (one per GPU), 0 off CUDA."""
    if getattr(cfg, "device", "cuda") == "cpu":
        return 0
    return max(1, cfg.world_size // max(1, getattr(cfg, "nnodes", 1)))


@dataclass
class Running:
    cfg: object
    repeat: int
    gpus: list[str]
    beside_max: int = 0  # most other configs running at once during this one


@dataclass
class Pool:
    gpus: list[str]
    queue: list[tuple] = field(default_factory=list)
    free: list[str] = field(default_factory=list)
    running: list[Running] = field(default_factory=list)

    def __post_init__(self):
        self.queue = order(self.queue)
        self.free = list(self.gpus)

    def too_large(self) -> list[tuple]:
        """Jobs that need more GPUs than the pool has: the runner records them as skipped."""
        big = [j for j in self.queue if gpus_needed(j[0]) > len(self.gpus)]
        self.queue = [j for j in self.queue if j not in big]
        return big

    def next_job(self) -> Running | None:
        """The head of the queue, with GPUs taken for it, when enough are free; else None."""
        if not self.queue:
            return None
        cfg, repeat = self.queue[0]
        need = gpus_needed(cfg)
        if need > len(self.free) or (need == 0 and self.running):  # a CPU config runs alone
            return None
        if need and self.running and any(gpus_needed(r.cfg) == 0 for r in self.running):
            return None
        self.queue.pop(0)
        job = Running(cfg, repeat, [self.free.pop(0) for _ in range(need)])
        self.running.append(job)
        for r in self.running:
            r.beside_max = max(r.beside_max, len(self.running) - 1)
        return job

    def finished(self, job: Running):
        self.running.remove(job)
        self.free = sorted(self.free + job.gpus, key=self.gpus.index)

    @property
    def done(self) -> bool:
        return not self.queue and not self.running
