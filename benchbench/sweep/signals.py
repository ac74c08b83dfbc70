"""SIGTERM and SIGINT around a run: SIGTERM (what Slurm and CI runners send) unwinds the way Ctrl-C does,
and the run's end (rows finalized, run.json) is written whole whatever arrives meanwhile.

The run, ab and bisect share sigterm_as_interrupt: running children end, temporary worktrees go,
finished rows stay; the caller tells SIGTERM (exit 143) from Ctrl-C (130) by the Terminated it catches.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from benchbench.basics.errors import Terminated


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM raises Terminated (a KeyboardInterrupt) where it arrives; yields the list of the SIGTERMs
    seen, for code that catches KeyboardInterrupt and must still tell which it was. Off the main thread
    (signals go to the main thread only) it changes nothing."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handler(signum, frame):
        seen.append(signum)
        raise Terminated()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def signals_held():
    """SIGINT and SIGTERM recorded, not raised, while the run's end is written; the caller acts on them after."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    old = {s: signal.signal(s, lambda signum, frame: held.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for s, h in old.items():
            signal.signal(s, h)
