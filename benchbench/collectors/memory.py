"""Memory over the measured window, and where it goes.

CUDA allocator: peak allocated / reserved bytes, reset when the window starts, and allocated
bytes at that moment (the steady state after warmup). Host: the worker's peak resident set
(VmHWM), reset at the window start where the kernel allows it.

Breakdown, from the tensors themselves: parameters, gradients (one per trainable parameter,
in its dtype: they all exist at the end of backward), optimizer state (moments, fp32 master
weights) - and on CUDA the rest of the peak, activations + workspace = peak - those three.
"""

from __future__ import annotations

from benchbench.plugins.components import lazy

torch = lazy("torch")

from benchbench.collectors.base import Collector


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


def tensor_bytes(tensors) -> int:
    """Bytes of distinct tensors (shared storage counted once; a DTensor by its local shard)."""
    seen, total = set(), 0
    for t in tensors:
        t = t.to_local() if hasattr(t, "to_local") else t  # a sharded (DTensor) parameter: this rank's shard
        if isinstance(t, torch.Tensor) and t.numel() and t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


def optimizer_tensors(opt):
    inner = getattr(opt, "inner", opt)  # MasterCopy keeps fp32 masters next to its inner optimizer
    for state in getattr(inner, "state", {}).values():
        yield from (v for v in state.values() if isinstance(v, torch.Tensor) and v.dim() > 0)
    yield from getattr(opt, "master", [])


class Memory(Collector):
    name = "memory"

    def start(self):
        self.out = {}
        dev = self.ctx.dev
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            torch.cuda.reset_peak_memory_stats(dev)
            self.out["steady_allocated_bytes"] = torch.cuda.memory_allocated(dev)
        self.out["rss_window_reset"] = _reset_hwm()

    def stop(self):
        dev = self.ctx.dev
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            self.out["peak_allocated_bytes"] = torch.cuda.max_memory_allocated(dev)
            self.out["peak_reserved_bytes"] = torch.cuda.max_memory_reserved(dev)
        self.out["peak_rss_bytes"] = _status_bytes("VmHWM")
        params = [p for p in self.ctx.model.parameters()] if self.ctx.model is not None else []
        self.out["params_bytes"] = tensor_bytes(params)
        self.out["grads_bytes"] = tensor_bytes(p for p in params if p.requires_grad)
        self.out["optimizer_state_bytes"] = tensor_bytes(optimizer_tensors(self.ctx.optimizer)) if self.ctx.optimizer else 0
        if "peak_allocated_bytes" in self.out:
            model_states = self.out["params_bytes"] + self.out["grads_bytes"] + self.out["optimizer_state_bytes"]
            self.out["activations_workspace_bytes"] = self.out["peak_allocated_bytes"] - model_states

    def fields(self) -> dict:
        return dict(self.out)
