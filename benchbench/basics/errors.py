"""The errors a user can meet: one family, caught once by the command line (exit 2, one line per problem).

Every module raises these (its old name, e.g. SuiteError or GitError, is the same class under the name
its callers know), so no command converts one error into another. Anything else that escapes is a bug
in benchbench: exit 3 (cli.py). Exceptions a module raises and catches itself (the worker's Skip, the
YAML reader's limits) are no part of this family and never reach a user.
"""

from __future__ import annotations


class UserError(Exception):
    """Input the user can fix (a suite, an argument, a path, a git revision): the message says what is
    wrong and how to fix it. Several problems are one line each (a suite's checks report them all)."""

    def __init__(self, problem: str | list[str] = ""):
        self.problems = [problem] if isinstance(problem, str) else [str(p) for p in problem]
        super().__init__("\n".join(self.problems))


class DamagedFile(UserError, ValueError):
    """A file benchbench wrote that no longer reads as one (truncated, edited): the message names it. A
    ValueError too, so readers that tolerate a missing or damaged file go on without it."""


class PluginError(UserError):
    """A plug-in that cannot be used as installed: the message names its distribution and entry point."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (what Slurm and CI runners send), raised where it arrives so that it unwinds the way Ctrl-C
    does: children end, temporary worktrees go, finished rows stay. Exit 143, where Ctrl-C is 130."""
