"""What every command shares: the console, and the usage error (exit 2; basics/errors.py's UserError)."""

from __future__ import annotations

import functools

from rich.console import Console

from benchbench.basics.errors import UserError
from benchbench.basics.signals import sigterm_as_interrupt


def console(stderr: bool = False) -> Console:
    """A rich console; wide when the output is a file or pipe, so tables are not folded."""
    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=200)


UsageError = UserError  # bad command-line input: the message says what and how to fix it


def ends_on_signals(name: str, kept: str):
    """A command's main that Ctrl-C and SIGTERM (what CI runners and Slurm send) end the same way: the stack
    unwinds (children ended, temporary files removed), then one line says what is kept; exit 130 or 143."""
    def wrap(main):
        @functools.wraps(main)
        def run(args) -> int:
            with sigterm_as_interrupt() as term:
                try:
                    return main(args)
                except KeyboardInterrupt:
                    what = "terminated (SIGTERM)" if term else "interrupted"
                    console(stderr=True).print(f"[yellow]{name} {what}[/]: {kept}", highlight=False, soft_wrap=True)
                    return 143 if term else 130
        return run
    return wrap
