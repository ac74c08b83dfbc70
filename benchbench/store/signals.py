"""Ctrl-C and SIGTERM held off while a store writes what must be whole (a history transaction and its
close): the signal is recorded, then delivered to the handler from before once the block ends, so the
command stops right after the write rather than in the middle of it."""

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
