"""The fixed costs a worker process pays, each timed alone on this machine (seconds, printed as JSON lines):
a fresh interpreter importing torch and benchbench; a forked child of a process that has imported them,
initializing CUDA; GPT-2 124M built on the GPU, and on the meta device then materialized; a process's exit
after CUDA work.      python3 bench/sweep-time/costs.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def fresh_import_s() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, torch._dynamo, benchbench.worker.measure"], check=True)
    return time.perf_counter() - t0


def forked(fn) -> float:
    """Seconds from fork to the child's exit, the child running fn."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            fn()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - t0


def cuda_init():
    import torch

    torch.cuda.init()
    torch.ones(1, device="cuda").sum().item()


def cuda_matmul():
    import torch

    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    (a @ a).sum().item()


def main():
    import torch  # noqa: F401

    import benchbench.worker.measure  # noqa: F401
    from benchbench import models
    from benchbench.spec.config import RunConfig

    out = {"fresh_import_s": fresh_import_s(), "fork_cuda_init_s": forked(cuda_init),
           "fork_cuda_matmul_s": forked(cuda_matmul)}

    def build(meta: bool):

        cuda_init()
        cfg = RunConfig(model="gpt", model_size="124m", device="cuda")
        t0 = time.perf_counter()
        with torch.device("meta" if meta else "cuda"):
            built = models.build(cfg)
        if meta:
            built.model.to_empty(device="cuda")
        torch.cuda.synchronize()
        print(json.dumps({f"build_{'meta' if meta else 'cuda'}_s": time.perf_counter() - t0}), flush=True)

    out["fork_build_cuda_total_s"] = forked(lambda: build(False))
    out["fork_build_meta_total_s"] = forked(lambda: build(True))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
