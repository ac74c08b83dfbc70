"""basics/nvml.py, the one door to NVML, against a fake pynvml: every init is shut down again, the
parent's views (worker/device.py, sweep/env.py) read the same GPUs, and a machine without NVML is a reason."""

import sys
import types

import pytest

from benchbench.basics import nvml
from benchbench.sweep import env
from benchbench.worker import device


def fake_pynvml(names=(b"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"), init_error=None):
    """A pynvml with `names` GPUs (bytes as older releases return them); .opened counts inits not shut down."""
    nv = types.SimpleNamespace(opened=0, NVML_CLOCK_SM=1, NVML_CLOCK_MEM=2, NVMLError=RuntimeError)

    def init():
        if init_error:
            raise init_error
        nv.opened += 1

    def shutdown():
        nv.opened -= 1

    nv.nvmlInit, nv.nvmlShutdown = init, shutdown
    nv.nvmlSystemGetDriverVersion = lambda: b"550.54.15"
    nv.nvmlDeviceGetCount = lambda: len(names)
    nv.nvmlDeviceGetHandleByIndex = lambda i: i
    nv.nvmlDeviceGetName = lambda h: names[h]
    nv.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=80 * 2**30, used=0)
    nv.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    nv.nvmlDeviceGetClockInfo = lambda h, kind: 1980 if kind == 1 else 2619
    nv.nvmlDeviceGetMaxClockInfo = lambda h, kind: 1980
    nv.nvmlDeviceGetCurrentClocksEventReasons = lambda h: 0
    nv.nvmlDeviceGetCpuAffinity = lambda h, words: [0b1111 << (4 * h)] + [0] * (words - 1)
    return nv


@pytest.fixture
def nv(monkeypatch):
    fake = fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    yield fake
    assert fake.opened == 0, "an nvmlInit without its nvmlShutdown"


def test_gpus_are_listed_with_names_as_text(nv):
    gpus, driver, why = nvml.gpus()
    assert driver == "550.54.15" and why is None
    assert gpus == [{"index": i, "name": "NVIDIA H100 80GB HBM3", "memory_bytes": 80 * 2**30, "compute_capability": (9, 0)}
                    for i in (0, 1)]


def test_the_parents_views_read_the_same_gpus(nv, monkeypatch):
    monkeypatch.setattr(device, "cuda_available", lambda: True)
    assert device.probe("cuda") == device.DeviceInfo("cuda", "NVIDIA H100 80GB HBM3", (9, 0), 2)
    assert device.gpu_memory_bytes(1) == 80 * 2**30 and device.gpu_memory_bytes(2) is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert device.gpu_count() == 1
    gpus, driver, _ = env._gpus()
    assert gpus[0]["compute_capability"] == "9.0" and driver == "550.54.15"
    assert env.gpu_local_cpus(["0", "1"]) == {"0": {0, 1, 2, 3}, "1": {4, 5, 6, 7}}
    assert env.gpu_clocks()[1] == {"index": 1, "sm_clock_mhz": 1980, "mem_clock_mhz": 2619, "sm_clock_max_mhz": 1980,
                                   "throttle_reasons_bitmask": 0}


def test_a_failed_query_still_shuts_nvml_down(nv):
    def broken(h):
        raise RuntimeError("GPU is lost")

    nv.nvmlDeviceGetName = broken
    assert nvml.gpus() == ([], None, "NVML failed: RuntimeError: GPU is lost")


def test_without_nvml_there_is_a_reason_not_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails as when it is not installed
    assert nvml.gpus() == ([], None, "nvidia-ml-py (pynvml) not installed")
    with pytest.raises(nvml.Unavailable, match="not installed"):
        nvml.load()
    assert device.gpu_memory_bytes() is None and env.gpu_clocks() == [] and env.gpu_local_cpus(["0"]) == {}
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(init_error=OSError("libnvidia-ml.so.1 not found")))
    assert nvml.gpus()[2] == "no NVIDIA driver (OSError: libnvidia-ml.so.1 not found)"
