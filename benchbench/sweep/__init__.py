"""The sweep: a suite's configs run, each in its own worker process, their rows recorded.

run_suite(SUITE, RunOptions(...)) -> Run is a whole run as a library call (run.py): what `benchbench run`
does, without its printing. The names load on first use: importing one part of the sweep (gitrepo,
launch) does not import the run's."""

from __future__ import annotations

LIBRARY = ("run_suite", "RunOptions", "Run", "RunListener")


def __getattr__(name: str):
    if name in LIBRARY:
        from benchbench.sweep import run

        return getattr(run, name)
    raise AttributeError(f"module 'benchbench.sweep' has no attribute {name!r}")
