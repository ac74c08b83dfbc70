"""Peak memory over the measured window.

CUDA: the caching allocator's peak allocated / reserved bytes, reset when the window starts,
and the allocated bytes at that moment (the steady state after warmup). Host: the worker's
peak resident set (VmHWM), reset at the window start where the kernel allows it.
"""

from __future__ import annotations

import torch


def _status_bytes(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Memory:
    name = "memory"

    def __init__(self, dev):
        self.dev = dev
        self.out: dict = {}

    def start(self):
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
            torch.cuda.reset_peak_memory_stats(self.dev)
            self.out["steady_allocated_bytes"] = torch.cuda.memory_allocated(self.dev)
        self.out["rss_window_reset"] = _reset_hwm()

    def stop(self):
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
            self.out["peak_allocated_bytes"] = torch.cuda.max_memory_allocated(self.dev)
            self.out["peak_reserved_bytes"] = torch.cuda.max_memory_reserved(self.dev)
        self.out["peak_rss_bytes"] = _status_bytes("VmHWM")

    def fields(self) -> dict:
        return dict(self.out)
