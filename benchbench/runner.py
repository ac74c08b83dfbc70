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

from benchbench import launch, results, techniques
from benchbench.device import DeviceInfo, probe


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


def sweep(configs, run_dir: Path, run: dict, on_progress=None, prestart: bool = True) -> SweepSummary:
    """Run what is pending. on_progress(done, total, cfg, row) is called after each row.
    prestart: on a GPU, start the next worker's imports while a config runs (launch.Spare)."""
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
            if cfg.device == "cuda" and dev.count == 0:
                reason = "device=cuda but this machine has no NVIDIA GPU"
            else:
                reason = techniques.skip_reason(cfg, dev)
            if reason:
                skipped_early += 1
                result = {"status": "skipped", "reason": reason}
            else:
                more = i + 1 < len(todo)
                result = launch.run(cfg, run_dir, repeat, prestart=prestart and more and dev.type == "cuda")
            row = results.make_row(run, cfg, repeat, result)
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
