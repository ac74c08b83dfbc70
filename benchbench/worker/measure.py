"""One config, one fresh process: build, apply techniques, warm up, measure, write one result.

    python -m benchbench.worker CONFIG_JSON RESULT_JSON [ARTIFACTS_DIR]
    python -m benchbench.worker --zygote   (forks a fresh worker per config: worker/zygote.py)

The result is a flat dict written atomically to RESULT_JSON; every outcome (ok, skipped, oom,
error) is a result, never a crash of the parent. Nothing here formats output for people.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from pathlib import Path

import torch

from benchbench import collectors, engines, models, techniques
from benchbench.basics import stats, stopping
from benchbench.basics.device import peak_fields
from benchbench.collectors import Context
from benchbench.plan import feasibility
from benchbench.spec.config import RunConfig
from benchbench.techniques import optimizer, precision
from benchbench.worker import device as devices
from benchbench.worker import numerics, throughput
from benchbench.worker.timing import StepTimer, synchronize

# Out of memory as CUDA libraries report it (not torch.OutOfMemoryError): seen near an H100's limit,
# "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`".
OOM_MESSAGES = ("CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED", "CUDA error: out of memory")
# Messages PyTorch gives when a forced attention backend cannot run the inputs.
BACKEND_REFUSALS = ("No viable backend", "No available kernel")


class Skip(Exception):
    """The config cannot run here; the message is the reason."""


def resolve(cfg: RunConfig) -> torch.device:
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise Skip("device=cuda but torch sees no CUDA device")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def setup(cfg: RunConfig, artifacts: Path | None = None) -> tuple[Context, object, dict]:
    """Model, techniques (fixed order), optimizer, engine and the synthetic batches."""
    t0 = time.perf_counter()
    dev = resolve(cfg)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    info = devices.from_torch(dev)
    reason = feasibility.skip_reason(cfg, info)
    if reason:
        raise Skip(reason)
    rank = _init_distributed(cfg, dev)
    t_built = time.perf_counter()
    torch.manual_seed(cfg.seed)
    with torch.device(dev):  # weights initialized where they live: ~2 s less for GPT-2 124M on a GPU
        built = models.build(cfg)
    # a user's model: its TP/PP hooks and its blocks are seen only here
    reason = engines.model_reason(cfg, built.model) or techniques.model_reason(cfg, built.model)
    if reason:
        raise Skip(reason)
    model = techniques.apply(built.model.to(dev), cfg, info)
    engine = engines.build(cfg, model, lambda m: optimizer.build(m, cfg, info), info, techniques.step_hooks(model, cfg))
    # Same data on every device type (a CPU generator), different data on every data-parallel rank; the
    # TP and PP ranks of one replica (neighbours in the (dp, pp/tp) mesh) share their batch.
    gen = torch.Generator().manual_seed(cfg.seed + rank // (cfg.tp_size * cfg.pp_size))
    batches = [built.make_batch(cfg.batch_size, gen, dev) for _ in range(cfg.grad_accum)]
    synchronize(dev)
    if rank:
        artifacts = None  # profiler traces, py-spy and configs: rank 0's
    ctx = Context(cfg=cfg, dev=dev, info=info, model=engine.model, optimizer=engine.optimizer, engine=engine,
                  batches=batches, artifacts=artifacts)
    if getattr(engine, "config", None) and ctx.artifact("deepspeed_config.json"):
        ctx.artifact("deepspeed_config.json").write_text(json.dumps(engine.config, indent=2))
    t_end = time.perf_counter()
    out = {"device_type": dev.type, "device_name": info.name, "n_params": built.n_params,
           **techniques.fields(engine.model, cfg), "setup_s": t_end - t0,
           "device_init_s": t_built - t0, "build_s": t_end - t_built}
    return ctx, built, out


def _init_distributed(cfg: RunConfig, dev: torch.device) -> int:
    """The process group of a distributed engine (env:// from torchrun or launch.py); this rank."""
    if not engines.distributed(cfg):
        return 0
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    if dist.get_world_size() != cfg.world_size:
        raise RuntimeError(f"world_size={cfg.world_size} but the process group has {dist.get_world_size()} ranks")
    return dist.get_rank()


def _warmup(ctx: Context, steps) -> dict:
    """`steps` steps, or with warmup_steps: auto one at a time until their times settle (stopping.WarmupRule);
    the row gets the steps taken and, auto, the last steps' spread and why the warm-up stopped."""
    out, t1 = {}, time.perf_counter()
    rule = stopping.WarmupRule() if steps == "auto" else None
    times: list[float] = []
    while True:
        if rule is None and len(times) >= steps:
            break
        t = time.perf_counter()
        ctx.engine.step(ctx.batches)
        if rule is not None or not times:
            synchronize(ctx.dev)  # auto: every step's time; fixed: the first's
        times.append(time.perf_counter() - t)
        if len(times) == 1:
            out["first_step_s"] = time.perf_counter() - t1
        if rule is not None:
            stop, why = rule.verdict(times)
            if stop:
                out.update(warmup_stop=why, warmup_spread=rule.spread(times))
                break
    synchronize(ctx.dev)
    out["warmup_s"] = time.perf_counter() - t1
    out["warmup_steps_taken"] = len(times)
    ctx.engine.warmup_steps_taken = len(times)  # the pipeline engine's clock leaves these steps out
    return out


def _timed_window(ctx: Context, cfg: RunConfig, active: list) -> tuple[list[float], float, torch.Tensor, dict]:
    """The measured steps: collectors started before, stopped after; nothing else inside. With
    measured_steps: auto, blocks of steps (no host synchronization inside a block; one between blocks,
    to read the block's times) until stopping.StepRule says the median is sure or a limit is hit."""
    rule = None
    if cfg.measured_steps == "auto":
        rule = stopping.StepRule(cfg.min_steps, cfg.max_steps, cfg.max_measure_s, cfg.target_halfwidth)
    for c in active:
        c.start()
    t2 = time.perf_counter()
    step_times, why = [], "fixed"
    while True:
        n = cfg.measured_steps if rule is None else rule.next_block(len(step_times))
        if n == 0:
            why = "max_steps"
            break
        timer = StepTimer(ctx.dev, n)
        timer.mark()
        for _ in range(n):
            loss = ctx.engine.step(ctx.batches)
            timer.mark()
        step_times += timer.step_times_s()  # synchronizes once per block
        if rule is None:
            break
        stop, why = rule.verdict(step_times)
        if stop:
            break
    measured_s = time.perf_counter() - t2
    for c in reversed(active):
        c.stop()
    info = {"measure_stop": why}
    if rule is not None:
        info.update(target_met=why == "target met", measured_halfwidth=stopping.relative_halfwidth(step_times))
    return step_times, measured_s, loss, info


def _throughput(cfg: RunConfig, built, step_times: list[float], out: dict) -> dict:
    samples_per_step = cfg.effective_batch  # the global batch once: TP and PP ranks share their replica's
    d = {"samples_per_step": samples_per_step, "model_flops_per_step": built.flops_per_sample * samples_per_step}
    if built.tokens_per_sample:
        d["tokens_per_step"] = samples_per_step * built.tokens_per_sample
    d.update(peak_fields(out["device_type"], out["device_name"], precision.mfu_dtype(cfg.precision), cfg.peak_tflops,
                         fp8=precision.MODES[cfg.precision].fp8_linears))
    d.update(throughput.rates(step_times, samples_per_step, d.get("tokens_per_step"), d["model_flops_per_step"],
                              cfg.world_size, d.get("peak_tflops"), out.get("hardware_flops_per_step"), out.get("energy_j"),
                              d.get("peak_fp8_tflops")))
    if cfg.compile != "off" and "first_step_s" in out:
        d["compile_s"] = max(0.0, out["first_step_s"] - out["step_time_s_median"])
    return d


def _host_syncs(ctx: Context) -> dict:
    """How many times one training step makes the host wait for the GPU, counted in one extra step after
    the window with torch's sync debug mode (fp16's loss scaler reads found_inf once a step)."""
    if ctx.dev.type != "cuda":
        return {"host_syncs_per_step": None, "host_syncs_reason": "CUDA only: a CPU step has no device to wait for"}
    import warnings

    try:
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ctx.engine.step(ctx.batches)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    synchronize(ctx.dev)
    return {"host_syncs_per_step": sum("synchroniz" in str(w.message) for w in caught)}


def fixed_costs(out: dict, measure_s: float) -> dict:
    """What the worker spent around its measured steps, in seconds: before measure() (interpreter, imports;
    a worker forked by the zygote counts from its fork), and measure()'s own time, with the measured
    share of both together (numerics checks, after this, not included)."""
    import_s = max(0.0, time.time() - _STARTED_AT - measure_s)
    total = import_s + measure_s
    return {"import_s": import_s, "worker_s": total,
            "measured_share": out["measured_s"] / total if total > 0 else None}


def _process_start() -> float:
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # no psutil or no /proc: from this module's import on
        return time.time()


_STARTED_AT = _process_start()


def restart_clock():
    """A worker forked by the zygote (worker/zygote.py): its imports were paid there, its run starts now."""
    global _STARTED_AT
    _STARTED_AT = time.time()


def nonfinite(out: dict) -> dict:
    """A NaN or infinite loss is not a measurement: the row becomes an error (its timings kept), so a
    technique that broke training is never reported as a speedup."""
    loss = out.get("loss_last")
    if loss is None or math.isfinite(loss):
        return out
    return {**out, "status": "error", "error_type": "NonFiniteLoss",
            "reason": f"the loss is {loss} after the timed window: the config broke training (timings kept in the row)"}


def measure(cfg: RunConfig, artifacts: Path | None = None) -> dict:
    t0 = time.perf_counter()
    ctx, built, out = setup(cfg, artifacts)
    out.update(_warmup(ctx, cfg.warmup_steps))
    t1 = time.perf_counter()
    active = collectors.build(cfg, ctx)
    out["collectors_setup_s"] = time.perf_counter() - t1
    step_times, out["measured_s"], loss, info = _timed_window(ctx, cfg, active)
    t2 = time.perf_counter()
    out.update(info)
    out["loss_last"] = float(loss)
    out.update(_host_syncs(ctx))
    for c in active:
        c.after()  # outside the window: profiling, FLOP counting
        out.update(c.fields())
    out.update(ctx.engine.fields())
    out["finish_s"] = time.perf_counter() - t2
    out.update(fixed_costs(out, time.perf_counter() - t0))
    out["step_times_s"] = step_times
    out.update(stats.summarize(step_times, "step_time_s"))
    out.update(_throughput(cfg, built, step_times, out))
    if cfg.numerics_steps:  # after everything measured: its own fresh models, the timed ones freed first
        dev = ctx.dev
        del ctx, built, active
        numerics.free(dev)
        out.update(numerics.check(cfg, setup))
    return out


def run(cfg: RunConfig, artifacts: Path | None = None) -> dict:
    try:
        return nonfinite({"status": "ok", **measure(cfg, artifacts)})
    except Skip as e:
        return {"status": "skipped", "reason": str(e)}
    except (torch.OutOfMemoryError, MemoryError) as e:
        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
        return {"status": "oom", "reason": (str(e).strip().splitlines() or [type(e).__name__])[0][:500],
                "peak_allocated_bytes": peak}
    except Exception as e:
        msg = str(e).strip()
        if any(m in msg for m in OOM_MESSAGES):
            return {"status": "oom", "reason": f"{type(e).__name__}: " + " ".join(msg.split())[:500],
                    "peak_allocated_bytes": torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None}
        if cfg.attention not in ("eager", "sdpa") and any(r in msg for r in BACKEND_REFUSALS):
            return {"status": "skipped", "reason": f"attention={cfg.attention}: " + " ".join(msg.split())[:500]}
        return {
            "status": "error",
            "error_type": type(e).__name__,
            "reason": msg[:2000],
            "traceback_tail": "".join(traceback.format_exc().splitlines(True)[-15:]),
        }


def write_atomic(path: str, data: dict):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv=None) -> int:
    args = argv or sys.argv[1:]
    cfg_path, result_path = args[:2]
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under torchrun: one result per rank, merged by launch.py
        result_path = f"{result_path}.rank{os.environ['RANK']}"
    artifacts = Path(args[2]) if len(args) > 2 else None
    with open(cfg_path) as f:
        cfg = RunConfig.model_validate_json(f.read())
    write_atomic(result_path, run(cfg, artifacts))
    return 0

