"""Harness overhead: a bare hand-written training loop vs benchbench's own code path, one process.

    python bench/bare_vs_harness.py                       # GPT-2 124M, bf16, SDPA, 16 x 1024, CUDA
    python bench/bare_vs_harness.py --compile             # both sides under torch.compile
    python bench/bare_vs_harness.py --model-size tiny --batch 2 --seq 64 --device cpu   # CPU check

A (bare): the model from benchbench.models.gpt, then plain torch: torch.autocast, loss.backward(),
fused AdamW step, zero_grad(set_to_none=True); one CUDA event before and one after the measured
steps (perf_counter on CPU).
B (harness): benchbench.worker.measure.measure(cfg), exactly what a worker process runs for one config
(model build, techniques.apply, optimizer.build, engines.build, StepTimer-measured loop,
collectors); its row gives the numbers.

Both sides get the same seed, so the same initial weights and the same batch; their final losses
should agree to rounding. Rounds alternate A, B, A, B, ...; each side is built fresh per round.
--profile N profiles N steps of each side with torch.profiler after the rounds (the harness side
built from the same components measure() uses) and reports GPU busy time per step vs wall time.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchbench import engines, models, techniques  # noqa: E402
from benchbench.models import gpt  # noqa: E402
from benchbench.spec.config import RunConfig  # noqa: E402
from benchbench.techniques import optimizer as optimizers  # noqa: E402
from benchbench.worker import device as devices  # noqa: E402
from benchbench.worker import measure as worker  # noqa: E402

AUTOCAST = {"bf16": torch.bfloat16, "fp32": None, "tf32": None}
GiB = 1024**3


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-size", default="124m", choices=list(gpt.SIZES))
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=None, help="tokens per sample (default: the model's context)")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--precision", default="bf16", choices=list(AUTOCAST))
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3, help="A/B pairs")
    p.add_argument("--compile", action="store_true", help="torch.compile (default mode) on both sides")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="profile N steps of each side after the rounds")
    p.add_argument("--profile-out", default=None, help="file for the full profiler tables")
    p.add_argument("--json", default=None, help="write every measurement here")
    return p.parse_args(argv)


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def cleanup(dev):
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- A: bare loop


class Bare:
    """The hand-written loop. Nothing from benchbench but the model definition and its batch."""

    def __init__(self, a, dev):
        torch.manual_seed(0)
        if dev.type == "cuda":  # what a hand loop for each precision sets
            torch.backends.cuda.matmul.allow_tf32 = a.precision == "tf32"
            torch.backends.cudnn.allow_tf32 = a.precision == "tf32"
        built = gpt.build(a.model_size, {}, a.seq, None)
        self.tokens_per_step = a.batch * built.tokens_per_sample
        self.flops_per_step = built.flops_per_sample * a.batch
        model = built.model.to(dev)
        if a.compile:
            model = torch.compile(model)
        self.model = model
        self.opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
        self.x, self.y = built.make_batch(a.batch, torch.Generator().manual_seed(0), dev)
        self.dtype = AUTOCAST[a.precision]
        self.dev = dev

    def step(self):
        if self.dtype is not None:
            with torch.autocast(self.dev.type, dtype=self.dtype):
                loss = self.model(self.x, self.y)
        else:
            loss = self.model(self.x, self.y)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return loss


def run_bare(a, dev) -> dict:
    t0 = time.perf_counter()
    b = Bare(a, dev)
    sync(dev)
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    first = None
    for i in range(a.warmup):
        b.step()
        if i == 0:
            sync(dev)
            first = time.perf_counter() - t1
    sync(dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(a.steps):
            loss = b.step()
        end.record()
        end.synchronize()
        total = start.elapsed_time(end) / 1e3
        peak = torch.cuda.max_memory_allocated(dev)
    else:
        t2 = time.perf_counter()
        for _ in range(a.steps):
            loss = b.step()
        total = time.perf_counter() - t2
        peak = None
    step = total / a.steps
    out = {"side": "bare", "step_s_mean": step, "step_s_median": None, "tokens_per_s": b.tokens_per_step / step,
           "tflops_per_s": b.flops_per_step / step / 1e12, "peak_allocated_bytes": peak, "setup_s": setup,
           "first_step_s": first, "loss_last": float(loss.detach())}
    del b, loss
    return out


# ----------------------------------------------------------------------------- B: harness


def config(a) -> RunConfig:
    return RunConfig(model="gpt", model_size=a.model_size, batch_size=a.batch, seq_len=a.seq, device=a.device,
                     warmup_steps=a.warmup, measured_steps=a.steps, precision=a.precision, attention="sdpa",
                     compile="default" if a.compile else "off", optimizer="adamw", optimizer_impl="fused", seed=0)


def run_harness(a, dev) -> dict:
    row = worker.measure(config(a))
    st = row["step_times_s"]
    mean = sum(st) / len(st)
    return {"side": "harness", "step_s_mean": mean, "step_s_median": row["step_time_s_median"],
            "tokens_per_s": row["tokens_per_s"], "tflops_per_s": row["model_tflops_per_s"],
            "peak_allocated_bytes": row.get("peak_allocated_bytes"), "setup_s": row["setup_s"],
            "first_step_s": row.get("first_step_s"), "loss_last": row["loss_last"]}


class HarnessParts:
    """The harness step built the way worker.measure() builds it (for profiling only)."""

    def __init__(self, a, dev):
        cfg = config(a)
        if hasattr(worker, "setup"):  # worker.setup(cfg) -> (Context, built, fields)
            ctx = worker.setup(cfg)[0]
            self.engine, self.batches = ctx.engine, ctx.batches
            return
        info = devices.from_torch(dev)
        torch.manual_seed(cfg.seed)
        built = models.build(cfg)
        model = techniques.apply(built.model.to(dev), cfg, info)
        self.engine = engines.build(cfg, model, lambda m: optimizers.build(m, cfg, info), info)
        gen = torch.Generator().manual_seed(cfg.seed)
        self.batches = [built.make_batch(cfg.batch_size, gen, dev) for _ in range(cfg.grad_accum)]

    def step(self):
        return self.engine.step(self.batches)


# ----------------------------------------------------------------------------- profiling


def _busy_us(intervals) -> float:
    """Length of the union of (start, end) intervals, in the profiler's microseconds."""
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def profile_side(name, make, a, dev, n, sink) -> dict:
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    obj = make(a, dev)
    for _ in range(max(3, a.warmup // 2)):
        obj.step()
    sync(dev)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=acts) as prof:
        t0 = time.perf_counter()
        for _ in range(n):
            obj.step()
        t_host = time.perf_counter() - t0  # time to enqueue n steps
        sync(dev)
        t_wall = time.perf_counter() - t0
    events = prof.events()
    gpu = [e for e in events if e.device_type == DeviceType.CUDA]
    busy = _busy_us([(e.time_range.start, e.time_range.end) for e in gpu]) / 1e6
    kernels = sum(e.time_range.end - e.time_range.start for e in gpu) / 1e6
    sort = "self_cuda_time_total" if dev.type == "cuda" else "self_cpu_time_total"
    try:
        table = prof.key_averages().table(sort_by=sort, row_limit=30)
    except Exception:  # older/newer naming of the device-time column
        table = prof.key_averages().table(sort_by="self_device_time_total", row_limit=30)
    sink.write(f"\n===== {name}: {n} steps =====\n{table}\n")
    del obj, prof
    cleanup(dev)
    return {"side": name, "wall_ms_per_step": 1e3 * t_wall / n, "host_enqueue_ms_per_step": 1e3 * t_host / n,
            "gpu_busy_ms_per_step": 1e3 * busy / n, "kernel_sum_ms_per_step": 1e3 * kernels / n,
            "gpu_kernels_per_step": len(gpu) / n}


# ----------------------------------------------------------------------------- main


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main(argv=None) -> int:
    a = parse(argv)
    if a.seq is None:
        a.seq = gpt.SIZES[a.model_size]["seq_len"]
    if a.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    dev = torch.device(a.device, 0) if a.device == "cuda" else torch.device("cpu")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}; gpt-{a.model_size}, {a.precision}, sdpa, batch {a.batch} x {a.seq}, "
          f"fused AdamW, warmup {a.warmup}, measured {a.steps}, rounds {a.rounds}, compile={'default' if a.compile else 'off'}",
          flush=True)

    runs = []
    for r in range(a.rounds):
        for side, fn in (("bare", run_bare), ("harness", run_harness)):
            if a.compile:
                torch._dynamo.reset()
            t0 = time.perf_counter()
            res = fn(a, dev)
            res.update(round=r, wall_s=time.perf_counter() - t0)
            runs.append(res)
            cleanup(dev)
            print(f"  round {r} {side:8s} {1e3 * res['step_s_mean']:8.2f} ms/step  {res['tokens_per_s']:>11,.0f} tok/s  "
                  f"first step {fmt(res['first_step_s'], '.2f')} s  loss {res['loss_last']:.4f}", flush=True)

    bare = [x for x in runs if x["side"] == "bare"]
    harn = [x for x in runs if x["side"] == "harness"]
    ratios = [h["tokens_per_s"] / b["tokens_per_s"] for b, h in zip(bare, harn)]
    ratio = statistics.median(ratios)

    def med(rows, k):
        vals = [x[k] for x in rows if x[k] is not None]
        return statistics.median(vals) if vals else None

    print()
    print(f"{'side':10s} {'ms/step':>9s} {'tokens/s':>11s} {'TFLOP/s':>8s} {'MFU@989':>8s} {'peak GiB':>9s} "
          f"{'setup s':>8s} {'1st step s':>10s} {'loss':>8s}")
    for label, rows in (("bare", bare), ("harness", harn)):
        peak = med(rows, "peak_allocated_bytes")
        tfl = med(rows, "tflops_per_s")
        print(f"{label:10s} {1e3 * med(rows, 'step_s_mean'):9.2f} {med(rows, 'tokens_per_s'):11,.0f} {tfl:8.1f} "
              f"{100 * tfl / 989:7.1f}% {fmt(peak / GiB if peak else None, '9.2f')} {med(rows, 'setup_s'):8.2f} "
              f"{fmt(med(rows, 'first_step_s'), '10.2f')} {rows[-1]['loss_last']:8.4f}")
    verdict = "PASS" if ratio >= 0.98 else "FAIL"
    print(f"harness/bare tokens/s: median {ratio:.4f} over {len(ratios)} rounds "
          f"(min {min(ratios):.4f}, max {max(ratios):.4f}); target >= 0.98: {verdict}")
    print("(medians over rounds; ms/step is the mean over each round's measured steps, as tokens_per_s uses)")

    profiles = []
    if a.profile:
        sink = open(a.profile_out, "w") if a.profile_out else sys.stdout
        try:
            for side, make in (("bare", Bare), ("harness", HarnessParts)):
                if a.compile:
                    torch._dynamo.reset()
                try:
                    profiles.append(profile_side(side, make, a, dev, a.profile, sink))
                except Exception as e:  # a profiler failure must not cost the timings above
                    print(f"profile of {side} failed: {type(e).__name__}: {e}", flush=True)
        finally:
            if sink is not sys.stdout:
                sink.close()
        if profiles:
            print(f"\nprofile ({a.profile} steps each){' -> ' + a.profile_out if a.profile_out else ''}")
            print(f"{'side':10s} {'wall ms':>9s} {'enqueue ms':>10s} {'GPU busy ms':>11s} {'kernels/step':>12s}")
            for p in profiles:
                print(f"{p['side']:10s} {p['wall_ms_per_step']:9.2f} {p['host_enqueue_ms_per_step']:10.2f} "
                      f"{p['gpu_busy_ms_per_step']:11.2f} {p['gpu_kernels_per_step']:12.0f}")

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "device_name": name, "torch": torch.__version__, "runs": runs,
                       "ratio_median": ratio, "ratios": ratios, "profiles": profiles}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
