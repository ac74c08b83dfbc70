"""What every command shares: the console, the usage error (exit 2), a new run directory."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import signal
import threading
from pathlib import Path

from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A rich console; wide when the output is a file or pipe, so tables are not folded."""
    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=200)


class UsageError(Exception):
    """Bad command-line input: the message says what and how to fix it."""


def new_run_dir(suite_name: str, output: str | None, results_root: str) -> Path:
    from benchbench.store import results

    if output:
        d = Path(output)
        if (d / results.ROWS).exists():
            raise UsageError(f"{d} already holds a run; continue it with: benchbench run --resume {d}")
    else:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        d = Path(results_root) / suite_name / f"{stamp}-{secrets.token_hex(3)}"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{d}: cannot create the run directory: {e.strerror or e}") from None
    return d


def ends_on_signals(name: str, kept: str):
    """A command's main that Ctrl-C and SIGTERM (what CI runners and Slurm send) end the same way: the stack
    unwinds (children ended, temporary files removed), then one line says what is kept; exit 130 or 143."""
    def wrap(main):
        @functools.wraps(main)
        def run(args) -> int:
            term: list[int] = []

            def on_term(signum, frame):
                term.append(signum)
                raise KeyboardInterrupt

            main_thread = threading.current_thread() is threading.main_thread()
            before = signal.signal(signal.SIGTERM, on_term) if main_thread else None
            try:
                return main(args)
            except KeyboardInterrupt:
                what = "terminated (SIGTERM)" if term else "interrupted"
                console(stderr=True).print(f"[yellow]{name} {what}[/]: {kept}", highlight=False, soft_wrap=True)
                return 143 if term else 130
            finally:
                if main_thread:
                    signal.signal(signal.SIGTERM, before)
        return run
    return wrap
