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
from benchbench.sweep import launch
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


def pending(configs, run_dir: Path) -> list[tuple]:
    done = results.recorded(run_dir)
    most = max((c.repeats for c in configs), default=0)
    return [(c, r) for r in range(most) for c in configs if r < c.repeats and (c.config_id, r) not in done]


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
          cluster: Cluster = LOCAL) -> SweepSummary:
    """Run what is pending. on_progress(done, total, cfg, row) is called after each row.
    prestart: on a GPU, start the next worker's imports while a config runs (launch.Spare).
    cluster: on several machines, node 0 runs and records everything; the others run only their
    share of the multi-machine configs, each when node 0 announces it, and record nothing."""
    if not cluster.leader:
        return _follow(configs, run_dir, on_progress, cluster)
    (run_dir / "work").mkdir(exist_ok=True)
    (run_dir / "work" / DONE).unlink(missing_ok=True)
    for stale in (run_dir / "work").glob("*.launch"):
        stale.unlink()
    try:
        return _lead(configs, run_dir, run, on_progress, prestart, cluster)
    finally:
        (run_dir / "work" / DONE).write_text("")


def _lead(configs, run_dir: Path, run: dict, on_progress, prestart: bool, cluster: Cluster) -> SweepSummary:
    todo = pending(configs, run_dir)
    devices: dict[str, DeviceInfo] = {}
    t0 = time.perf_counter()
    measured, done, skipped_early = 0.0, 0, 0
    statuses: dict[str, int] = {}
    try:
        for i, (cfg, repeat) in enumerate(todo):
            if cfg.device not in devices:
                devices[cfg.device] = probe(cfg.device)
            dev = devices[cfg.device]
            reason = feasibility.skip_reason(cfg, dev, cluster)
            if cfg.nnodes > 1:
                _announce(run_dir, cfg, repeat, "skip" if reason else "run")
            if reason:
                skipped_early += 1
                result = {"status": "skipped", "reason": reason}
            else:
                more = i + 1 < len(todo)
                result = launch.run(cfg, run_dir, repeat, prestart=prestart and more and dev.type == "cuda",
                                    cluster=cluster, slot=i)
            row = results.make_row(run, cfg, repeat, result)
            row.update(_predicted(cfg, row.get("peak_allocated_bytes")))
            with _sigint_deferred():  # the row and its count, or neither
                results.append(run_dir, row)
                done += 1
                measured += row.get("measured_s") or 0.0
                statuses[row["status"]] = statuses.get(row["status"], 0) + 1
            if on_progress:
                on_progress(done, len(todo), cfg, row)
    except KeyboardInterrupt:
        return SweepSummary(done, skipped_early, True, time.perf_counter() - t0, measured, statuses)
    finally:
        launch.shutdown()
    return SweepSummary(done, skipped_early, False, time.perf_counter() - t0, measured, statuses)


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
