"""Does sampling NVML perturb what it measures? Same config with and without the sampler.

Alternates, for several rounds in one process: no sampler (memory collector only), the NVML
collector's thread sampler, and the same polling done by a separate process (spawned, polling
the same NVML calls at the same interval) - and prints the median step time of each and the
overhead in percent (target: under 0.5%). Also records a profiler trace of the config, for
tests/fixtures (--trace-out).

    python bench/collector_overhead.py --size 124m --batch 16 --rounds 4       # on a GPU
    python bench/collector_overhead.py --size tiny --batch 2 --device cpu --rounds 1
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import statistics
import tempfile
from pathlib import Path

from benchbench import collectors
from benchbench.collectors.base import Collector
from benchbench.collectors.nvml import INTERVAL_S
from benchbench.spec.config import RunConfig
from benchbench.worker import measure as worker


def _poll(index: int, stop, counter):
    import time

    from benchbench.basics import nvml

    nv = nvml.load()
    h = nv.nvmlDeviceGetHandleByIndex(index)
    while not stop.is_set():
        nv.nvmlDeviceGetUtilizationRates(h), nv.nvmlDeviceGetPowerUsage(h)
        nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM), nv.nvmlDeviceGetTemperature(h, 0)
        nv.nvmlDeviceGetComputeRunningProcesses(h), nv.nvmlDeviceGetMemoryInfo(h)
        counter.value += 1
        time.sleep(INTERVAL_S)


class ProcessSampler(Collector):
    """The alternative design: NVML polled from another process."""

    def start(self):
        ctx = mp.get_context("spawn")
        self.stop_evt, self.count = ctx.Event(), ctx.Value("i", 0)
        self.proc = ctx.Process(target=_poll, args=(self.ctx.dev.index or 0, self.stop_evt, self.count), daemon=True)
        self.proc.start()
        while self.count.value == 0 and self.proc.is_alive():  # polling before the window opens
            pass

    def stop(self):
        self.stop_evt.set()
        self.proc.join()

    def fields(self):
        return {"nvml_samples": self.count.value}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="124m")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=None)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--trace-out", help="also store one profiler trace (gzipped Chrome JSON) here")
    a = ap.parse_args()
    base = dict(model_size=a.size, batch_size=a.batch, seq_len=a.seq, device=a.device, precision=a.precision,
                optimizer_impl="fused" if a.device == "cuda" else "auto", warmup_steps=5, measured_steps=a.steps)
    variants = {"no sampler": ["memory"], "thread sampler": ["memory", "nvml"], "process sampler": ["memory", "process"]}
    if a.device != "cuda":  # no NVML: the loop only checks that the script runs
        variants.pop("process sampler")
    medians = {k: [] for k in variants}
    samples = {k: [] for k in variants}
    real_build = collectors.build

    def build(cfg, ctx):  # "process" is this benchmark's own collector, not one of benchbench's
        return real_build(cfg, ctx) + ([ProcessSampler(ctx)] if process_variant else [])

    collectors.build = build
    worker.collectors.build = build
    for _ in range(a.rounds):
        for name, collect in variants.items():
            process_variant = "process" in collect
            row = worker.measure(RunConfig(**base, collect=[c for c in collect if c != "process"]))
            medians[name].append(row["step_time_s_median"])
            samples[name].append(row.get("nvml_samples"))
    print(f"config: gpt {a.size}, batch {a.batch}, {a.precision}, {a.steps} steps x {a.rounds} rounds, device {row['device_name']}")
    print(f"{'variant':<20} {'median step ms':>15}   per-round medians (ms)")
    for name, m in medians.items():
        print(f"{name:<20} {statistics.median(m) * 1e3:>15.3f} {' '.join(f'{x * 1e3:.3f}' for x in m)}")
    ref = statistics.median(medians["no sampler"])
    for name in [v for v in variants if v != "no sampler"]:
        print(f"{name} overhead: {100 * (statistics.median(medians[name]) / ref - 1):+.3f}% of step time; "
              f"samples per window: {samples[name]}")
    if a.trace_out:
        tmp = Path(tempfile.mkdtemp())
        row = worker.measure(RunConfig(**{**base, "measured_steps": 5}, collect=["memory"], profile=True), tmp / "t")
        shutil.copyfile(tmp / "t" / "trace.json.gz", a.trace_out)
        print("trace summary:", {k: v for k, v in row.items() if k.startswith("profile_") and k != "profile_top_kernels"})
        print("top kernels:", row["profile_top_kernels"])


if __name__ == "__main__":
    main()
