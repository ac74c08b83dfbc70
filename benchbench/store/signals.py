"""A history write that must be whole, against what can stop it. held(): Ctrl-C and SIGTERM held off
while a store writes (a history transaction and its close): the signal is recorded, then delivered to
the handler from before once the block ends, so the command stops right after the write rather than in
the middle of it. write_hint(): what to do when the disk refused the write."""

from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def held():
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    got: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: got.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        for s in dict.fromkeys(got):  # once each, in the order they came
            signal.raise_signal(s)


FULL = ("No space left", "Disk quota", "File too large")
READ_ONLY = ("Read-only file system", "Permission denied")


def write_hint(msg: str) -> str:
    """What to do when DuckDB could not write (its errors carry the OS's words, not an errno)."""
    if any(w in msg for w in FULL):
        return "; the write was rolled back and every earlier run is kept: free some space, then run it again"
    if any(w in msg for w in READ_ONLY):
        return "; nothing was written: point --history-db at a writable place, or fix its permissions"
    return ""
