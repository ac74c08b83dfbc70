"""The sweep: every (config, repeat) not yet recorded, one worker each, a row appended after each.

Repeats are interleaved (all configs once, then all again) so slow drift of the machine
spreads over configs instead of biasing one. Ctrl-C stops after killing the running worker;
what finished is already on disk, and `benchbench run --resume RUN_DIR` runs the rest.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchbench.plan import feasibility, memory_model
from benchbench.store import results
from benchbench.sweep import auto_repeats, concurrent, env, launch, pool
from benchbench.sweep.cluster import LOCAL, Cluster
from benchbench.worker.device import DeviceInfo, probe

DONE = "leader.done"  # in work/: node 0 has left the sweep (finished or interrupted)


@dataclass
class SweepSummary:
    ran: int
    skipped_before_launch: int
    interrupted: bool
    wall_s: float
    measured_s: float
    statuses: dict
    gpu_busy_s: float = 0.0  # seconds GPUs were held by workers, summed over GPUs

    def add(self, other: SweepSummary) -> SweepSummary:
        statuses = dict(self.statuses)
        for k, v in other.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
        return SweepSummary(self.ran + other.ran, self.skipped_before_launch + other.skipped_before_launch, other.interrupted,
                            self.wall_s + other.wall_s, self.measured_s + other.measured_s, statuses,
                            self.gpu_busy_s + other.gpu_busy_s)


def pending(configs, run_dir: Path) -> list[tuple]:
    """(config, repeat) pairs not yet recorded, repeats interleaved. A `repeats: auto` config wants 3
    repeats, then one more at a time until the sequential test against its reference stops it."""
    done = results.recorded(run_dir)
    wanted = auto_repeats.wanted(configs, run_dir, done)   # repeats: auto: the sequential test
    most = max(wanted.values(), default=0)
    return [(c, r) for r in range(most) for c in configs if r < wanted[c.config_id] and (c.config_id, r) not in done]


@contextlib.contextmanager
def _sigint_deferred():
    """Hold Ctrl-C while a row is written, so a row is either recorded whole or not begun."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield  # (an ignored Ctrl-C, e.g. under nohup, stays ignored)
        return
    caught = []
    old = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if caught:
        if callable(old):
            old(*caught[0])  # replay it: Python's own handler raises KeyboardInterrupt
        else:
            raise KeyboardInterrupt


def _marker(run_dir: Path, cfg, repeat: int) -> Path:
    """Node 0 writes 'run' or 'skip' here before a multi-machine config; the others wait for it."""
    return run_dir / "work" / f"{cfg.config_id}-r{repeat}.launch"


def _announce(run_dir: Path, cfg, repeat: int, what: str):
    (run_dir / "work").mkdir(exist_ok=True)
    _marker(run_dir, cfg, repeat).write_text(what)


def _await_leader(run_dir: Path, cfg, repeat: int, since: float) -> str | None:
    """'run' / 'skip' once node 0 announces the config; None if node 0 left the sweep first."""
    marker, done = _marker(run_dir, cfg, repeat), run_dir / "work" / DONE
    while True:
        if marker.exists():
            return marker.read_text().strip()
        if done.exists() and done.stat().st_mtime >= since:
            return None
        time.sleep(0.5)


def sweep(configs, run_dir: Path, run: dict, on_progress=None, prestart: bool = True,
          cluster: Cluster = LOCAL, gpus: list[str] | None = None) -> SweepSummary:
    """Run what is pending. on_progress(done, total, cfg, row) is called after each row.
    prestart: on a GPU, fork each worker from a process that has done the imports (launch.Zygote),
    where idle cores allow it. gpus: the GPU ids of the pool (pool.parse_gpus); several run configs side
    by side (concurrent.py), one runs them one at a time on that GPU, None leaves the visible GPUs.
    cluster: on several machines, node 0 runs and records everything; the others run only their
    share of the multi-machine configs, each when node 0 announces it, and record nothing."""
    if not cluster.leader:
        return _follow(configs, run_dir, on_progress, cluster)
    (run_dir / "work").mkdir(exist_ok=True)
    (run_dir / "work" / DONE).unlink(missing_ok=True)
    for stale in (run_dir / "work").glob("*.launch"):
        stale.unlink()
    try:
        total = None
        while True:  # more than one round only when repeats: auto asks for more
            if gpus and len(gpus) > 1 and all(c.nnodes == 1 for c in configs):
                part = _lead_pool(configs, run_dir, run, on_progress, gpus)
            else:
                part = _lead(configs, run_dir, run, on_progress, prestart, cluster, gpus)
            total = part if total is None else total.add(part)
            if part.interrupted or part.ran == 0 or not any(c.repeats == "auto" for c in configs) \
                    or not pending(configs, run_dir):
                return total
    finally:
        (run_dir / "work" / DONE).write_text("")


def _launch(cfg, run_dir: Path, repeat: int, **kw) -> dict:
    """launch.run with the machine's load around it: what a reader needs to tell noise from a regression."""
    start = env.load_avg_1m()
    result = launch.run(cfg, run_dir, repeat, **kw)
    return {**result, "load_avg_1m_start": start, "load_avg_1m_end": env.load_avg_1m(), "usable_cores": env.usable_cores()}


def _gpus_for(cfg, gpus: list[str] | None) -> list[str] | None:
    """One config at a time: the first GPUs of --gpus it needs; all visible ones when --gpus names fewer."""
    need = pool.gpus_needed(cfg)
    if not gpus or need == 0 or need > len(gpus):
        return None
    return gpus[:need]


def _spare_fits() -> bool:
    """A spare worker's imports (seconds of one core's work) run beside the measured window only when
    at least two cores are idle: on a host with one usable core they slowed a 13 ms CPU-bound step 37-56%."""
    load = env.load_avg_1m()
    return env.usable_cores() - (load if load is not None else env.usable_cores()) >= 2


class _Recorder:
    """Appends rows one at a time (Ctrl-C held while a row is written) and keeps the sweep's counts."""

    def __init__(self, run_dir: Path, run: dict, on_progress, total: int):
        self.run_dir, self.run, self.on_progress, self.total = run_dir, run, on_progress, total
        self.done, self.measured, self.skipped_early, self.statuses = 0, 0.0, 0, {}

    def __call__(self, cfg, repeat: int, result: dict):
        row = results.make_row(self.run, cfg, repeat, result)
        if self.run.get("smoke"):  # every smoke row says so: tiny scale, not a measurement of the config
            row["smoke"] = True
        row.update(_predicted(cfg, row.get("peak_allocated_bytes")))
        with _sigint_deferred():  # the row and its count, or neither
            results.append(self.run_dir, row)
            self.done += 1
            self.measured += row.get("measured_s") or 0.0
            self.statuses[row["status"]] = self.statuses.get(row["status"], 0) + 1
        if self.on_progress:
            self.on_progress(self.done, self.total, cfg, row)

    def summary(self, t0: float, interrupted: bool, gpu_busy_s: float) -> SweepSummary:
        return SweepSummary(self.done, self.skipped_early, interrupted, time.perf_counter() - t0, self.measured,
                            self.statuses, gpu_busy_s)


def _lead(configs, run_dir: Path, run: dict, on_progress, prestart: bool, cluster: Cluster, gpus) -> SweepSummary:
    todo = pending(configs, run_dir)
    devices: dict[str, DeviceInfo] = {}
    t0 = time.perf_counter()
    rec, busy = _Recorder(run_dir, run, on_progress, len(todo)), 0.0
    try:
        for i, (cfg, repeat) in enumerate(todo):
            if cfg.device not in devices:
                devices[cfg.device] = probe(cfg.device)
            dev = devices[cfg.device]
            reason = feasibility.skip_reason(cfg, dev, cluster)
            if cfg.nnodes > 1:
                _announce(run_dir, cfg, repeat, "skip" if reason else "run")
            if reason:
                rec.skipped_early += 1
                result = {"status": "skipped", "reason": reason}
            else:
                more = i + 1 < len(todo)
                result = _launch(cfg, run_dir, repeat, prestart=prestart and more and dev.type == "cuda" and _spare_fits(),
                                 cluster=cluster, slot=i, gpus=_gpus_for(cfg, gpus))
                busy += (result.get("wall_s") or 0.0) * (pool.gpus_needed(cfg) if dev.type == "cuda" else 0)
            rec(cfg, repeat, result)
    except KeyboardInterrupt:
        return rec.summary(t0, True, busy)
    finally:
        launch.shutdown()
    return rec.summary(t0, False, busy)


def _lead_pool(configs, run_dir: Path, run: dict, on_progress, gpus: list[str]) -> SweepSummary:
    """Several GPUs: configs side by side, each on GPUs no other worker holds (pool.py, concurrent.py)."""
    todo = pending(configs, run_dir)
    devices: dict[str, DeviceInfo] = {}
    t0 = time.perf_counter()
    rec = _Recorder(run_dir, run, on_progress, len(todo))

    def skip(cfg):
        if cfg.device not in devices:
            devices[cfg.device] = probe(cfg.device)
        reason = feasibility.skip_reason(cfg, devices[cfg.device], LOCAL)
        rec.skipped_early += bool(reason)
        return reason

    def start(cfg, repeat, job_gpus, slot, cpus, more):
        # a spare per GPU lane only when the lane has cores of its own to import on
        return _launch(cfg, run_dir, repeat, prestart=more and len(cpus) >= 2, slot=slot, gpus=job_gpus or None,
                       cpus=cpus or None)

    busy = [0.0]

    def record(cfg, repeat, result):
        busy[0] += (result.get("wall_s") or 0.0) * len([g for g in str(result.get("gpu_ids") or "").split(",") if g])
        rec(cfg, repeat, result)

    try:
        concurrent.run_pool(todo, gpus, start, record, skip, pool.cpu_slices(gpus, sorted(env.usable_cpu_ids()),
                                                                            env.gpu_local_cpus(gpus)))
    except KeyboardInterrupt:
        return rec.summary(t0, True, busy[0])
    finally:
        launch.shutdown()
    return rec.summary(t0, False, busy[0])


def _predicted(cfg, measured_peak) -> dict:
    """predicted_peak_bytes (memory_model.py) next to the measured peak; never costs a row."""
    try:
        return memory_model.row_fields(cfg, measured_peak)
    except Exception as e:
        return {"predicted_peak_bytes": None, "predicted_note": f"no prediction: {type(e).__name__}"}


def _follow(configs, run_dir: Path, on_progress, cluster: Cluster) -> SweepSummary:
    """Machine node_rank > 0: for each multi-machine config node 0 runs, start this machine's ranks."""
    since = time.time() - 1.0
    todo = pending(configs, run_dir)
    t0, ran, statuses = time.perf_counter(), 0, {}
    try:
        for i, (cfg, repeat) in enumerate(todo):
            if cfg.nnodes > 1 and not cluster.skip_reason(cfg):
                told = _await_leader(run_dir, cfg, repeat, since)
                if told is None:
                    break
                if told == "run":
                    result = launch.run(cfg, run_dir, repeat, cluster=cluster, slot=i)
                    ran += 1
                    statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            if on_progress:
                on_progress(i + 1, len(todo), cfg, {"status": "followed" if cfg.nnodes > 1 else "node 0's"})
    except KeyboardInterrupt:
        return SweepSummary(ran, 0, True, time.perf_counter() - t0, 0.0, statuses)
    finally:
        launch.shutdown()
    return SweepSummary(ran, 0, False, time.perf_counter() - t0, 0.0, statuses)
