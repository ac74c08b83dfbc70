"""Does sampling NVML perturb what it measures? Same config with and without the sampler.

Alternates A (memory only) and B (memory + nvml) for several rounds in one process and prints
median step time of each, and B's overhead in percent (target: under 0.5%). Also records a
profiler trace of the config, for tests/fixtures (--trace-out).

    python bench/collector_overhead.py --size 124m --batch 16 --rounds 4       # on a GPU
    python bench/collector_overhead.py --size tiny --batch 2 --device cpu --rounds 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from benchbench import worker
from benchbench.config import RunConfig


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
    variants = {"without sampler": ["memory"], "with nvml sampler": ["memory", "nvml"]}
    medians = {k: [] for k in variants}
    samples = []
    for _ in range(a.rounds):
        for name, collect in variants.items():
            row = worker.measure(RunConfig(**base, collect=collect))
            medians[name].append(row["step_time_s_median"])
            if "nvml_samples" in row:
                samples.append(row["nvml_samples"])
    print(f"config: gpt {a.size}, batch {a.batch}, {a.precision}, {a.steps} steps x {a.rounds} rounds, device {row['device_name']}")
    print(f"{'variant':<20} {'median step ms':>15} {'per-round medians (ms)'}")
    for name, m in medians.items():
        print(f"{name:<20} {statistics.median(m) * 1e3:>15.3f} {' '.join(f'{x * 1e3:.3f}' for x in m)}")
    a_med, b_med = (statistics.median(m) for m in medians.values())
    print(f"nvml sampler overhead: {100 * (b_med / a_med - 1):+.3f}% of step time; samples per window: {samples}")
    if a.trace_out:
        tmp = Path(tempfile.mkdtemp())
        row = worker.measure(RunConfig(**{**base, "measured_steps": 5}, collect=["memory"], profile=True), tmp / "t")
        shutil.copyfile(tmp / "t" / "trace.json.gz", a.trace_out)
        print("trace summary:", {k: v for k, v in row.items() if k.startswith("profile_") and k != "profile_top_kernels"})
        print("top kernels:", row["profile_top_kernels"])


if __name__ == "__main__":
    main()
