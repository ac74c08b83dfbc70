"""What every command shares: the console, and the usage error (exit 2; basics/errors.py's UserError)."""

from __future__ import annotations

from rich.console import Console

from benchbench.basics.errors import UserError


def console(stderr: bool = False) -> Console:
    """A rich console; wide when the output is a file or pipe, so tables are not folded."""
    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=200)


UsageError = UserError  # bad command-line input: the message says what and how to fix it
