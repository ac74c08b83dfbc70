"""NVML: utilization, power, clocks, temperature, throttling and energy over the timed window.

A daemon thread polls every `interval_s` (NVML's calls are ctypes calls, which release the
GIL, so the training thread is not held up; the overhead is measured in docs/performance.md).
Energy is the difference of nvmlDeviceGetTotalEnergyConsumption (mJ, Volta and newer) across
exactly the window; where that counter is unsupported, the power samples are integrated
(trapezoids) and energy_method says so. Without an NVIDIA driver every field is absent and
nvml_reason says why.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from benchbench.basics import nvml
from benchbench.collectors.base import Collector

INTERVAL_S = 0.05
# clock-event reason bits (nvml.h) that mean the clocks were held down; idle and the
# application-clock setting are not throttling.
THROTTLE_BITS = {0x4: "power", 0x8: "hw_slowdown", 0x20: "thermal", 0x40: "hw_thermal", 0x80: "power_brake",
                 0x10: "sync_boost"}


def _handle(nv, dev):
    """The NVML handle of torch device `dev` (matched by UUID: CUDA_VISIBLE_DEVICES renumbers)."""
    import torch

    props = torch.cuda.get_device_properties(dev)
    uuid = getattr(props, "uuid", None)
    if uuid is not None:
        try:
            return nv.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
        except nv.NVMLError:
            pass
    return nv.nvmlDeviceGetHandleByIndex(dev.index or 0)


class NVML(Collector):
    name = "nvml"

    def __init__(self, ctx, interval_s: float = INTERVAL_S):
        super().__init__(ctx)
        self.interval_s = interval_s
        self.reason = None
        self.samples: list[tuple] = []
        self.energy = (None, None)
        if ctx.dev.type != "cuda":
            self.reason = f"device is {ctx.dev.type}, not an NVIDIA GPU"
            return
        try:
            self.nv = nvml.load()
            self.h = _handle(self.nv, ctx.dev)
        except nvml.Unavailable as e:
            self.reason = str(e)
        except Exception as e:
            self.reason = f"no NVML handle for {ctx.dev} ({type(e).__name__}: {e})"

    def _energy_mj(self):
        try:
            return self.nv.nvmlDeviceGetTotalEnergyConsumption(self.h)
        except self.nv.NVMLError:
            return None

    def _throttle(self):
        nv = self.nv
        fn = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or nv.nvmlDeviceGetCurrentClocksThrottleReasons
        return fn(self.h)

    def _sample(self):
        nv, h = self.nv, self.h
        util = nv.nvmlDeviceGetUtilizationRates(h)
        mine = 0
        for p in nv.nvmlDeviceGetComputeRunningProcesses(h):
            if p.pid == self.pid and p.usedGpuMemory:
                mine = p.usedGpuMemory
        return (time.perf_counter(), util.gpu, util.memory, nv.nvmlDeviceGetPowerUsage(h) / 1e3,
                nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM), nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU),
                self._throttle(), mine, nv.nvmlDeviceGetMemoryInfo(h).used)

    def _loop(self):
        while not self.stopping.wait(self.interval_s):
            try:
                self.samples.append(self._sample())
            except Exception as e:  # a driver hiccup ends sampling, not the run
                self.reason = f"sampling stopped: {type(e).__name__}: {e}"
                return

    def start(self):
        if self.reason:
            return
        import torch

        self.pid = os.getpid()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="benchbench-nvml", daemon=True)
        torch.cuda.synchronize(self.ctx.dev)
        self.t0, e0 = time.perf_counter(), self._energy_mj()
        self.samples.append(self._sample())
        self.thread.start()
        self.energy = (e0, None)

    def stop(self):
        if self.reason and not self.samples:
            return
        import torch

        torch.cuda.synchronize(self.ctx.dev)
        e1, self.t1 = self._energy_mj(), time.perf_counter()
        self.stopping.set()
        self.thread.join()
        self.samples.append(self._sample())
        self.energy = (self.energy[0], e1)

    def fields(self) -> dict:
        if not self.samples:
            return {"nvml_reason": self.reason}
        s = np.array([x[:6] + x[7:] for x in self.samples], dtype=float)
        out = {"nvml_reason": self.reason, "nvml_samples": len(self.samples), "nvml_interval_s": self.interval_s}
        for i, name in ((1, "gpu_util_pct"), (2, "mem_util_pct"), (3, "power_w"), (4, "sm_clock_mhz"), (5, "temperature_c")):
            out[f"{name}_mean"], out[f"{name}_min"], out[f"{name}_max"] = s[:, i].mean(), s[:, i].min(), s[:, i].max()
        out["process_gpu_memory_peak_bytes"] = int(s[:, 6].max()) or None
        out["device_memory_used_peak_bytes"] = int(s[:, 7].max())
        bits = 0
        for x in self.samples:
            bits |= x[6]
        out["throttled"] = ",".join(name for bit, name in THROTTLE_BITS.items() if bits & bit)
        e0, e1 = self.energy
        if e0 is not None and e1 is not None and e1 >= e0:
            out["energy_j"], out["energy_method"] = (e1 - e0) / 1e3, "counter"
        else:
            t, w = s[:, 0], s[:, 3]
            out["energy_j"], out["energy_method"] = float(np.sum((t[1:] - t[:-1]) * (w[1:] + w[:-1]) / 2)), "power_samples"
        return out
