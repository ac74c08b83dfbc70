"""NVML (nvidia-ml-py), the one module that imports and initializes pynvml. NVML reads the GPUs without a
CUDA context, so the parent can list them before it launches a worker (worker/device.py, sweep/env.py)
and the worker's collector can poll its GPU beside the training thread (collectors/nvml.py).

nvmlInit() is counted by NVML: each load() needs one nvmlShutdown(); opened() pairs them for a block.
Without the package or the driver, load() raises Unavailable with the reason, which callers record
(a CPU machine is not an error).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Unavailable(Exception):
    """NVML cannot be used in this process; the message says why."""


def load():
    """The pynvml module, initialized; Unavailable when it is not installed or there is no NVIDIA driver."""
    try:
        import pynvml
    except ImportError:
        raise Unavailable("nvidia-ml-py (pynvml) not installed") from None
    try:
        pynvml.nvmlInit()
    except Exception as e:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...: no usable driver
        raise Unavailable(f"no NVIDIA driver ({type(e).__name__}: {e})") from None
    return pynvml


@contextmanager
def opened() -> Iterator:
    """pynvml initialized for the block, shut down after it; Unavailable as load()."""
    nv = load()
    try:
        yield nv
    finally:
        nv.nvmlShutdown()


def text(value) -> str:
    """A string NVML returned: bytes from older nvidia-ml-py releases, str from newer ones."""
    return value.decode() if isinstance(value, bytes) else value


def gpus() -> tuple[list[dict], str | None, str | None]:
    """(the GPUs NVML sees, the driver version, why there are none). Each GPU: index (NVML's, which
    CUDA_VISIBLE_DEVICES does not renumber), name, memory_bytes, compute_capability (major, minor)."""
    try:
        with opened() as nv:
            driver = text(nv.nvmlSystemGetDriverVersion())
            out = []
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                out.append({"index": i, "name": text(nv.nvmlDeviceGetName(h)),
                            "memory_bytes": int(nv.nvmlDeviceGetMemoryInfo(h).total),
                            "compute_capability": tuple(nv.nvmlDeviceGetCudaComputeCapability(h))})
            return out, driver, None
    except Unavailable as e:
        return [], None, str(e)
    except Exception as e:  # a driver that answers init but not the queries: no GPUs, and why
        return [], None, f"NVML failed: {type(e).__name__}: {e}"
