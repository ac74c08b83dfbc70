"""One config, one fresh process: build, apply techniques, warm up, measure, write one result.

    python -m benchbench.worker CONFIG_JSON RESULT_JSON

The result is a flat dict written atomically to RESULT_JSON; every outcome (ok, skipped, oom,
error) is a result, never a crash of the parent. Nothing here formats output for people.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import torch

from benchbench import collectors, engines, models, peaks, stats, techniques
from benchbench import device as devices
from benchbench.collectors.timing import StepTimer, synchronize
from benchbench.config import RunConfig
from benchbench.techniques import optimizer

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


def measure(cfg: RunConfig) -> dict:
    t0 = time.perf_counter()
    dev = resolve(cfg)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    info = devices.from_torch(dev)
    reason = techniques.skip_reason(cfg, info)
    if reason:
        raise Skip(reason)
    torch.manual_seed(cfg.seed)
    built = models.build(cfg)
    model = techniques.apply(built.model.to(dev), cfg, info)
    engine = engines.build(cfg, model, optimizer.build(model, cfg, info), info, techniques.step_hooks(model, cfg))
    gen = torch.Generator().manual_seed(cfg.seed)
    batches = [built.make_batch(cfg.batch_size, gen, dev) for _ in range(cfg.grad_accum)]
    synchronize(dev)
    out = {"device_type": dev.type, "device_name": info.name, "n_params": built.n_params, "setup_s": time.perf_counter() - t0}

    t1 = time.perf_counter()
    for i in range(cfg.warmup_steps):
        engine.step(batches)
        if i == 0:
            synchronize(dev)
            out["first_step_s"] = time.perf_counter() - t1
    synchronize(dev)
    out["warmup_s"] = time.perf_counter() - t1

    active = [collectors.COLLECTORS[name](dev) for name in collectors.DEFAULT]
    timer = StepTimer(dev, cfg.measured_steps)
    for c in active:
        c.start()
    t2 = time.perf_counter()
    timer.mark()
    for _ in range(cfg.measured_steps):
        loss = engine.step(batches)
        timer.mark()
    step_times = timer.step_times_s()
    out["measured_s"] = time.perf_counter() - t2
    for c in active:
        c.stop()
        out.update(c.fields())

    out["loss_last"] = float(loss)
    out.update(engine.fields())
    out["step_times_s"] = step_times
    out.update(stats.summarize(step_times, "step_time_s"))
    samples_per_step = cfg.batch_size * cfg.grad_accum * cfg.world_size
    mean_step = sum(step_times) / len(step_times)
    out["samples_per_step"] = samples_per_step
    out["samples_per_s"] = samples_per_step / mean_step
    if built.tokens_per_sample:
        out["tokens_per_step"] = samples_per_step * built.tokens_per_sample
        out["tokens_per_s"] = out["tokens_per_step"] / mean_step
    out["model_flops_per_step"] = built.flops_per_sample * samples_per_step
    out["model_tflops_per_s"] = out["model_flops_per_step"] / mean_step / 1e12
    out.update(peaks.mfu_fields(out["model_tflops_per_s"], dev.type, info.name, cfg.precision, cfg.peak_tflops))
    if cfg.compile != "off" and "first_step_s" in out:
        out["compile_s"] = max(0.0, out["first_step_s"] - out["step_time_s_median"])
    return out


def run(cfg: RunConfig) -> dict:
    try:
        return {"status": "ok", **measure(cfg)}
    except Skip as e:
        return {"status": "skipped", "reason": str(e)}
    except (torch.OutOfMemoryError, MemoryError) as e:
        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
        return {"status": "oom", "reason": str(e).strip().splitlines()[0][:500], "peak_allocated_bytes": peak}
    except Exception as e:
        msg = str(e).strip()
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
    cfg_path, result_path = (argv or sys.argv[1:])[:2]
    with open(cfg_path) as f:
        cfg = RunConfig.model_validate_json(f.read())
    write_atomic(result_path, run(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
