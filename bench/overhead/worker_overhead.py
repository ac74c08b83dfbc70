"""Where a worker's fixed per-config overhead goes (wall_s - warmup_s - measured_s).

    python bench/worker_overhead.py [--compile] [--device cuda] [--model-size 124m] [--batch 16] [--seq 1024]

1. Runs the real worker (`python -m benchbench.worker`) once for the config and splits its wall
   time into setup_s, warmup_s, measured_s and the rest (interpreter + imports before setup,
   collectors' after(), writing the result, process exit).
2. Runs this file as a child that goes through the same phases one at a time, each timed
   (time.time() across the process boundary for the start, the parent's wait() for the exit),
   plus the alternative of initializing the model's weights directly on the GPU; twice, the
   second time leaving through os._exit(0) right after the result is written.
"""

from __future__ import annotations

import time

T_START = time.time()  # before any heavy import

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def config_json(a) -> str:
    sys.path.insert(0, str(ROOT))
    from benchbench.spec.config import RunConfig

    cfg = RunConfig(model="gpt", model_size=a.model_size, batch_size=a.batch, seq_len=a.seq, device=a.device,
                    warmup_steps=5, measured_steps=30, precision="bf16", attention="sdpa",
                    compile="default" if a.compile else "off", optimizer="adamw", optimizer_impl="fused")
    return cfg.model_dump_json()


def child(cfg_path: str, t_spawn: float, fast_exit: bool) -> None:
    marks = [("spawn -> interpreter running", T_START - t_spawn)]
    last = [T_START]

    def mark(name):
        now = time.time()
        marks.append((name, now - last[0]))
        last[0] = now

    import torch

    mark("import torch")
    sys.path.insert(0, str(ROOT))
    from benchbench import collectors, engines, models, techniques
    from benchbench.basics import stats
    from benchbench.spec.config import RunConfig
    from benchbench.techniques import optimizer
    from benchbench.worker import device as devices
    from benchbench.worker import measure as worker
    from benchbench.worker.timing import StepTimer

    mark("import benchbench (worker's imports)")
    import torch._dynamo  # noqa: F401  (any torch.optim optimizer's constructor imports it)

    mark("import torch._dynamo (torch.optim.Optimizer.__init__ does this)")
    cfg = RunConfig.model_validate_json(Path(cfg_path).read_text())
    dev = worker.resolve(cfg)
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    if cuda:
        torch.cuda.set_device(dev)
        torch.zeros(1, device=dev)
        sync()
    mark("CUDA context (set_device + first allocation)")
    info = devices.from_torch(dev)
    techniques.skip_reason(cfg, info)
    mark("device info + skip_reason")
    torch.manual_seed(cfg.seed)
    built = models.build(cfg)
    mark("models.build (weights initialized on the CPU)")
    model = built.model.to(dev)
    sync()
    mark("model.to(device)")
    if cuda:
        with torch.device(dev):
            alt = models.build(cfg)
        sync()
        mark("[alternative, not used] models.build under torch.device(cuda)")
        del alt
        torch.cuda.empty_cache()
        last[0] = time.time()
    model = techniques.apply(model, cfg, info)
    mark("techniques.apply")
    opt = optimizer.build(model, cfg, info)
    hooks = techniques.step_hooks(model, cfg) if hasattr(techniques, "step_hooks") else ()
    engine = engines.build(cfg, model, lambda m: opt, info, hooks)
    gen = torch.Generator().manual_seed(cfg.seed)
    batches = [built.make_batch(cfg.batch_size, gen, dev) for _ in range(cfg.grad_accum)]
    sync()
    mark("optimizer + engine + batches")
    engine.step(batches)
    sync()
    mark("warmup step 1 (cuBLAS/cuDNN handles; compile)")
    for _ in range(cfg.warmup_steps - 1):
        engine.step(batches)
    sync()
    mark(f"warmup steps 2..{cfg.warmup_steps}")
    ctx = collectors.Context(cfg=cfg, dev=dev, info=info, model=model, optimizer=opt, engine=engine, batches=batches)
    active = collectors.build(cfg, ctx)
    mark(f"collectors init ({', '.join(c.name for c in active)})")
    timer = StepTimer(dev, cfg.measured_steps)
    for c in active:
        c.start()
    timer.mark()
    for _ in range(cfg.measured_steps):
        engine.step(batches)
        timer.mark()
    st = timer.step_times_s()
    for c in reversed(active):
        c.stop()
    mark(f"measured window ({cfg.measured_steps} steps, collectors start/stop)")
    out = {}
    for c in active:
        t = time.time()
        c.after()
        out.update(c.fields())
        marks.append((f"collector {c.name}: after() + fields()", time.time() - t))
    last[0] = time.time()
    out.update(stats.summarize(st, "step_time_s"))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(out, f, default=str)
    mark("stats + write result")
    print("MARKS " + json.dumps({"marks": marks, "t_end": time.time()}), flush=True)
    if fast_exit:
        sys.stderr.flush()
        os._exit(0)


def parent(a) -> int:
    cfg_json = config_json(a)
    tmp = Path(tempfile.mkdtemp())
    cfg_path = tmp / "cfg.json"
    cfg_path.write_text(cfg_json)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": f"{ROOT}:{os.environ.get('PYTHONPATH', '')}"}
    label = "compile=default" if a.compile else "compile=off"

    # 1. the real worker
    res = tmp / "result.json"
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "benchbench.worker", str(cfg_path), str(res)], env=env, cwd=ROOT,
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r = json.loads(res.read_text())
    if r.get("status") != "ok":
        print(f"worker: {r.get('status')} {r.get('reason')}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
        return 1
    rest = wall - r["setup_s"] - r["warmup_s"] - r["measured_s"]
    print(f"\n== real worker, gpt-{a.model_size} bf16 {label}: wall {wall:.2f} s = setup_s {r['setup_s']:.2f} + "
          f"warmup_s {r['warmup_s']:.2f} (first step {r['first_step_s']:.2f}) + measured_s {r['measured_s']:.2f} + rest {rest:.2f}; "
          f"overhead (wall - warmup - measured) {wall - r['warmup_s'] - r['measured_s']:.2f} s")

    # 2. the same phases one at a time; then again, leaving through os._exit(0)
    for fast_exit in (False, True):
        t_spawn = time.time()
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(cfg_path), str(t_spawn),
                            str(int(fast_exit))], env=env, cwd=ROOT, capture_output=True, text=True)
        t_exit = time.time()
        wall = time.perf_counter() - t0
        line = next((x for x in p.stdout.splitlines() if x.startswith("MARKS ")), None)
        if line is None:
            print(f"child failed (rc {p.returncode})\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
            return 1
        d = json.loads(line[6:])
        how = "os._exit(0)" if fast_exit else "normal interpreter exit"
        marks = d["marks"] + [(f"process exit after the result is written ({how})", t_exit - d["t_end"])]
        print(f"== phases (one child process, wall {wall:.2f} s), gpt-{a.model_size} bf16 {label}, {how}")
        for name, s in marks:
            print(f"  {s:7.2f} s  {name}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1], float(argv[2]), argv[3] == "1")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--model-size", default="124m")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=None)
    return parent(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
