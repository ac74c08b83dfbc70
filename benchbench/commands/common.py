"""What every command shares: the console, the usage error (exit 2), a new run directory."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from rich.console import Console

from benchbench.basics.errors import UserError


def console(stderr: bool = False) -> Console:
    """A rich console; wide when the output is a file or pipe, so tables are not folded."""
    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=200)


UsageError = UserError  # bad command-line input: the message says what and how to fix it


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
