"""What the parent knows about the machine before launching (no CUDA context is created here)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceInfo:
    type: str  # "cpu" | "cuda"
    name: str
    capability: tuple[int, int] | None = None  # CUDA compute capability
    count: int = 0  # GPUs visible


def _nvml_gpus() -> list[tuple[str, tuple[int, int]]]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:
        return []
    try:
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            name = name.decode() if isinstance(name, bytes) else name
            out.append((name, tuple(pynvml.nvmlDeviceGetCudaComputeCapability(h))))
        return out
    finally:
        pynvml.nvmlShutdown()


def gpu_memory_bytes(index: int = 0) -> float | None:
    """Total memory of one GPU from NVML (no CUDA context in this process); None without one."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return None
    try:
        return float(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).total)
    except Exception:
        return None
    finally:
        pynvml.nvmlShutdown()


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def probe(requested: str) -> DeviceInfo:
    """The device a config asking for `requested` ("auto" | "cpu" | "cuda") will run on."""
    import platform

    if requested == "cpu" or (requested == "auto" and not cuda_available()):
        return DeviceInfo("cpu", platform.processor() or platform.machine())
    gpus = _nvml_gpus()
    if gpus:
        return DeviceInfo("cuda", gpus[0][0], gpus[0][1], len(gpus))
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
    n = len(_nvml_gpus())
    return min(n, len(visible)) if "CUDA_VISIBLE_DEVICES" in os.environ else n
