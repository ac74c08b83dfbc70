"""The GPU pool: which (config, repeat) runs next and on which GPUs of this machine.

Configs run concurrently, each on GPUs no other worker holds: a one-GPU config on one free GPU
(CUDA_VISIBLE_DEVICES names it), a `world_size: k` config on k free GPUs. Within each round of
repeats the configs that need most GPUs go first, so the large ones are not left waiting behind a
trickle of small ones; a job waits at the head of the queue until enough GPUs are free (no job
overtakes it), so the interleaving of repeats is kept. The pool knows nothing of processes: the
runner asks `next_job()` for what to start and calls `finished()`; tests drive it with fake indices.

Each GPU also owns a slice of the host's cores (cpu_slices): a job runs pinned to the slices of its
GPUs, and so does the spare worker importing for that GPU's next job. Concurrent workers then never
share a core, so one's imports or Python dispatch cannot preempt another's timed window: each GPU
with its slice behaves like a one-GPU machine running configs one at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from benchbench.basics.errors import UserError

PoolError = UserError  # a --gpus value that names no usable GPU: the message lists the GPUs there are


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


def cpu_slices(gpus: list[str], cpus: list[int], local: dict[str, set[int]] | None = None) -> dict[str, list[int]]:
    """GPU id -> the cores its jobs run on, disjoint between GPUs. GPUs that share a NUMA node's cores
    (`local`, from NVML) split those; without that knowledge, all usable cores are split in GPU order.
    {} (no pinning) when there are fewer cores than GPUs in a group: a pinned worker needs a core."""
    usable = sorted(set(cpus))
    groups: dict[tuple[int, ...], list[str]] = {}
    for g in gpus:
        near = tuple(sorted(set(local.get(g, ())) & set(usable))) if local else ()
        groups.setdefault(near or tuple(usable), []).append(g)
    if local and len(groups) > 1 and sum(len(k) for k in groups) > len(usable):
        groups = {tuple(usable): list(gpus)}  # overlapping NUMA sets: they cannot be split disjointly
    out: dict[str, list[int]] = {}
    for cores, members in groups.items():
        share, extra = divmod(len(cores), len(members))
        if share == 0:
            return {}
        at = 0
        for i, g in enumerate(members):
            n = share + (i < extra)
            out[g] = list(cores[at:at + n])
            at += n
    return out


@dataclass
class Running:
    cfg: object
    repeat: int
    gpus: list[str]
    beside_max: int = 0  # most other configs running at once during this one
    cpus: list[int] = field(default_factory=list)  # cores it is pinned to; [] = not pinned


@dataclass
class Pool:
    gpus: list[str]
    queue: list[tuple] = field(default_factory=list)
    free: list[str] = field(default_factory=list)
    running: list[Running] = field(default_factory=list)
    cpus_by_gpu: dict[str, list[int]] = field(default_factory=dict)  # cpu_slices(); {} = no pinning

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
        job.cpus = sorted(c for g in job.gpus for c in self.cpus_by_gpu.get(g, ()))
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
