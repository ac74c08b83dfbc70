"""Per-step times without host synchronization inside the measured window.

CUDA: one event recorded before the first step and after every step; step i is the GPU time
between events i and i+1 (back to back, so launch gaps count, as they cost real time). Events
are read after one synchronize at the end. CPU: time.perf_counter at the same points.
"""

from __future__ import annotations

import time

import torch


class StepTimer:
    def __init__(self, dev, steps: int):
        self.cuda = dev.type == "cuda"
        self.marks: list = []
        if self.cuda:
            self.events = [torch.cuda.Event(enable_timing=True) for _ in range(steps + 1)]

    def mark(self):
        """Call once before the first step and once after each step."""
        if self.cuda:
            self.events[len(self.marks)].record()
            self.marks.append(None)
        else:
            self.marks.append(time.perf_counter())

    def step_times_s(self) -> list[float]:
        if self.cuda:
            torch.cuda.synchronize()
            ev = self.events[: len(self.marks)]
            return [a.elapsed_time(b) / 1e3 for a, b in zip(ev, ev[1:])]
        return [b - a for a, b in zip(self.marks, self.marks[1:])]


def synchronize(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
