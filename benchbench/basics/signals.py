"""Signals at the edges of what must be whole. SIGTERM (what Slurm and CI runners send) unwinds the way
Ctrl-C does (sigterm_as_interrupt: running children end, temporary worktrees go, finished rows stay; the
caller tells SIGTERM, exit 143, from Ctrl-C, 130, by the Terminated it catches). held(): Ctrl-C and SIGTERM
recorded, not raised, while something is written whole (a run's end, a history transaction and its close);
then either handed back to the caller or delivered to the handler from before, so the command stops right
after the write rather than in the middle of it.
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
def held(deliver: bool = True):
    """SIGINT and SIGTERM recorded while the block runs; yields their list. deliver: raise each (once, in the
    order they came) after the block, to the handler from before; else the caller acts on the list."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield got
        return
    old = {s: signal.signal(s, lambda signum, frame: got.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if deliver:
            for s in dict.fromkeys(got):
                signal.raise_signal(s)
