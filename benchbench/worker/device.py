"""What the parent knows about the machine before launching (no CUDA context is created here)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from benchbench.basics import nvml


@dataclass(frozen=True)
class DeviceInfo:
    type: str  # "cpu" | "cuda"
    name: str
    capability: tuple[int, int] | None = None  # CUDA compute capability
    count: int = 0  # GPUs visible


def gpu_memory_bytes(index: int = 0) -> float | None:
    """Total memory of one GPU from NVML (no CUDA context in this process); None without one."""
    gpus = nvml.gpus()[0]
    return float(gpus[index]["memory_bytes"]) if index < len(gpus) else None


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def probe(requested: str) -> DeviceInfo:
    """The device a config asking for `requested` ("auto" | "cpu" | "cuda") will run on."""
    import platform

    if requested == "cpu" or (requested == "auto" and not cuda_available()):
        return DeviceInfo("cpu", platform.processor() or platform.machine())
    gpus = nvml.gpus()[0]
    if gpus:
        return DeviceInfo("cuda", gpus[0]["name"], gpus[0]["compute_capability"], len(gpus))
    if cuda_available():  # no NVML (e.g. a non-NVIDIA CUDA-like backend): ask torch
        import torch

        return DeviceInfo("cuda", torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0), torch.cuda.device_count())
    return DeviceInfo("cuda", "none", None, 0)


def from_torch(dev) -> DeviceInfo:
    """Inside the worker: the device in use, as torch sees it."""
    import platform

    import torch

    if dev.type == "cuda":
        i = dev.index or 0
        return DeviceInfo("cuda", torch.cuda.get_device_name(i), torch.cuda.get_device_capability(i), torch.cuda.device_count())
    return DeviceInfo("cpu", platform.processor() or platform.machine())


def gpu_count() -> int:
    """NVIDIA GPUs this process may use, from NVML without a CUDA context (CUDA_VISIBLE_DEVICES counts)."""
    visible = [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g.strip()]
    n = len(nvml.gpus()[0])
    return min(n, len(visible)) if "CUDA_VISIBLE_DEVICES" in os.environ else n
