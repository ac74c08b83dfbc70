"""Several workers at once, one per free GPU set of the pool (pool.py): the sweep loop of a machine
with several GPUs. Each worker runs in a thread that only waits for its process; this thread (the
main one) starts jobs, appends rows one at a time, and on Ctrl-C/SIGTERM ends every running worker.
A row records the GPUs it ran on (`gpu_ids`) and how many other configs ran beside it at most
(`configs_beside`): 0 is a config that had the machine to itself."""

from __future__ import annotations

import queue
import threading
import time

from benchbench.sweep import launch
from benchbench.sweep.pool import Pool, Running


def run_pool(todo, pool_gpus: list[str], start_job, record, skip_reason,
             cpus_by_gpu: dict[str, list[int]] | None = None) -> tuple[int, float]:
    """Run every (cfg, repeat) of `todo` on the pool. start_job(cfg, repeat, gpus, slot, cpus, more) ->
    result dict (blocking; called in a worker thread; cpus: the cores to pin it to, more: whether jobs
    are still queued, so a spare worker is worth starting); record(cfg, repeat, result) appends the row
    (main thread); skip_reason(cfg) -> str | None decides skips before launch. cpus_by_gpu: the pool's
    core slices (pool.cpu_slices). Returns (rows recorded, GPU-busy seconds)."""
    pool = Pool(pool_gpus, list(todo), cpus_by_gpu=cpus_by_gpu or {})
    done_q: queue.Queue = queue.Queue()
    recorded, busy_s, slot = 0, 0.0, 0
    for cfg, repeat in pool.too_large():
        record(cfg, repeat, {"status": "skipped", "reason": f"world_size={cfg.world_size} needs more GPUs than the "
                                                            f"pool has ({len(pool_gpus)}: --gpus)"})
        recorded += 1

    def work(job: Running, slot: int, more: bool):
        t0 = time.perf_counter()
        try:
            result = start_job(job.cfg, job.repeat, job.gpus, slot, job.cpus, more)
        except BaseException as e:  # never lose the job: the main thread records what happened
            result = {"status": "error", "reason": f"launcher failed: {type(e).__name__}: {e}"}
        done_q.put((job, result, time.perf_counter() - t0))

    try:
        while not pool.done:
            while (job := pool.next_job()) is not None:
                reason = skip_reason(job.cfg)
                if reason:
                    pool.finished(job)
                    record(job.cfg, job.repeat, {"status": "skipped", "reason": reason})
                    recorded += 1
                    continue
                threading.Thread(target=work, args=(job, slot, bool(pool.queue)), daemon=True).start()
                slot += 1
            if pool.running:
                job, result, wall = done_q.get()
                pool.finished(job)
                busy_s += wall * max(1, len(job.gpus))
                result = {**result, "gpu_ids": ",".join(job.gpus), "configs_beside": job.beside_max}
                record(job.cfg, job.repeat, result)
                recorded += 1
    except BaseException:
        launch.kill_running()
        raise
    return recorded, busy_s
