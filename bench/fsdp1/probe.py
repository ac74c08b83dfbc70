"""Where FSDP2's time goes at one GPU: GPT-2 124M, bf16, 16 x 1024, the plain loop, DDP and FSDP2 variants
timed in one process (CUDA events per step; host time to issue a step; GPU busy share), and the profiler's
top host ops for FSDP2. Prints one JSON line per variant and writes $Q_OUT/probe.json, $Q_OUT/prof-*.txt."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from benchbench.models import gpt

OUT = os.environ.get("Q_OUT", "/tmp/fsdp1")
STEPS, WARM, B = int(os.environ.get("STEPS", 20)), int(os.environ.get("WARM", 5)), int(os.environ.get("BATCH", 16))


def build():
    torch.manual_seed(0)
    b = gpt.build("124m", {}, 1024, None)
    return b.model.cuda(), b


def fsdp(model, reshard=True, per_block=True, param=torch.bfloat16, compile_blocks=False):
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    mp = MixedPrecisionPolicy(param_dtype=param, reduce_dtype=torch.float32)
    if per_block:
        for i, blk in enumerate(model.blocks):
            if compile_blocks:
                blk.compile()
            fully_shard(blk, mp_policy=mp, reshard_after_forward=reshard and i < len(model.blocks) - 1)
    fully_shard(model, mp_policy=mp, reshard_after_forward=reshard)
    return model


def variant(name, wrap, autocast, impl="fused", batch=B):
    model, built = build()
    model = wrap(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, **({"fused": True} if impl == "fused" else {"foreach": True}))
    gen = torch.Generator().manual_seed(0)
    x, y = built.make_batch(batch, gen, torch.device("cuda"))
    ac = (lambda: torch.autocast("cuda", torch.bfloat16)) if autocast else contextlib.nullcontext

    def step():
        with ac():
            loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(WARM):
        step()
    torch.cuda.synchronize()
    ev = [torch.cuda.Event(enable_timing=True) for _ in range(STEPS + 1)]
    host = []
    ev[0].record()
    t0 = time.perf_counter()
    for i in range(STEPS):
        h = time.perf_counter()
        step()
        host.append(time.perf_counter() - h)
        ev[i + 1].record()
    torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    ms = [ev[i].elapsed_time(ev[i + 1]) for i in range(STEPS)]
    # GPU busy: one step's kernels timed back to back after a sync (no host gaps can hide in it)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            step()
        torch.cuda.synchronize()
    ka = prof.key_averages()
    gpu_us = sum(e.self_device_time_total for e in ka) / 3
    with open(f"{OUT}/prof-{name}.txt", "w") as f:
        f.write(ka.table(sort_by="self_cpu_time_total", row_limit=30))
    r = {"variant": name, "pg_lazy": os.environ.get("PG_LAZY") == "1", "warmup_steps": WARM, "batch": batch, "step_ms_median": statistics.median(ms), "host_ms_median": 1e3 * statistics.median(host),
         "gpu_kernel_ms_per_step": gpu_us / 1e3, "wall_ms_per_step": 1e3 * wall / STEPS,
         "tokens_per_s": batch * 1024 / (statistics.median(ms) / 1e3), "peak_gib": torch.cuda.max_memory_allocated() / 2**30}
    print(json.dumps(r), flush=True)
    model = opt = None  # free the GPU memory before the next variant
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return r


def main():
    os.makedirs(OUT, exist_ok=True)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29512")
    torch.cuda.set_device(0)
    lazy = os.environ.get("PG_LAZY") == "1"  # as the worker starts it: no device_id, NCCL set up at the first collective
    dist.init_process_group("nccl", rank=0, world_size=1, **({} if lazy else {"device_id": torch.device("cuda:0")}))
    torch.backends.cuda.matmul.allow_tf32 = True
    which = sys.argv[1:] or ["torch", "ddp", "fsdp", "fsdp-noreshard", "fsdp-root", "fsdp-foreach", "fsdp-fp32ac",
                             "torch-b32", "fsdp-b32"]
    V = {
        "torch": lambda: variant("torch", lambda m: m, True),
        "ddp": lambda: variant("ddp", lambda m: DistributedDataParallel(m), True),
        "fsdp": lambda: variant("fsdp", fsdp, False),
        "fsdp-noreshard": lambda: variant("fsdp-noreshard", lambda m: fsdp(m, reshard=False), False),
        "fsdp-root": lambda: variant("fsdp-root", lambda m: fsdp(m, per_block=False), False),
        "fsdp-foreach": lambda: variant("fsdp-foreach", fsdp, False, impl="foreach"),
        "fsdp-fp32ac": lambda: variant("fsdp-fp32ac", lambda m: fsdp(m, param=torch.float32), True),
        "torch-b32": lambda: variant("torch-b32", lambda m: m, True, batch=32),
        "fsdp-b32": lambda: variant("fsdp-b32", fsdp, False, batch=32),
        "torch-compiled": lambda: variant("torch-compiled", lambda m: torch.compile(m), True),
        "fsdp-compiled-blocks": lambda: variant("fsdp-compiled-blocks", lambda m: fsdp(m, compile_blocks=True), False),
    }
    rows = [V[w]() for w in which]
    with open(f"{OUT}/probe.json", "a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
