"""Per-step times without host synchronization inside the measured window.

CUDA: one event recorded before the first step and after every step; step i is the GPU time
between events i and i+1 (back to back, so launch gaps count, as they cost real time). Events
are read after one synchronize at the end. CPU: time.perf_counter at the same points, and
time.process_time (the CPU time of all the process's threads): a step's CPU time barely moves
when other jobs share the cores, its wall time does (the gate's load-robust metric on shared CPUs).
"""

from __future__ import annotations

import time

import torch


class StepTimer:
    def __init__(self, dev, steps: int):
        self.cuda = dev.type == "cuda"
        self.marks: list = []
        self.cpu_marks: list[float] = []
        if self.cuda:
            self.events = [torch.cuda.Event(enable_timing=True) for _ in range(steps + 1)]

    def mark(self):
        """Call once before the first step and once after each step."""
        if self.cuda:
            self.events[len(self.marks)].record()
            self.marks.append(None)
        else:
            self.marks.append(time.perf_counter())
            self.cpu_marks.append(time.process_time())

    def step_times_s(self) -> list[float]:
        if self.cuda:
            torch.cuda.synchronize()
            ev = self.events[: len(self.marks)]
            return [a.elapsed_time(b) / 1e3 for a, b in zip(ev, ev[1:])]
        return [b - a for a, b in zip(self.marks, self.marks[1:])]

    def step_cpu_times_s(self) -> list[float] | None:
        """CPU seconds the process spent in each step (CPU devices; None on CUDA)."""
        if self.cuda:
            return None
        return [b - a for a, b in zip(self.cpu_marks, self.cpu_marks[1:])]


def synchronize(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
