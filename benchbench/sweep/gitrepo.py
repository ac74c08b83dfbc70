"""The user's git repository, read and checked out without touching their working copy: revisions,
commit times, the commits between two revisions, and temporary worktrees (bisect)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchbench.basics.errors import UserError

GitError = UserError  # a repository or revision that cannot be used: the message says which and why


def git(repo: str | Path, *args, check: bool = True, timeout: float = 60) -> str:
    try:
        p = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise GitError("git is not installed (bisect and --since need it)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args)} took over {timeout:.0f} s in {repo}") from None
    except NotADirectoryError:
        raise GitError(f"{repo}: not a directory") from None
    if check and p.returncode:
        raise GitError(f"git {' '.join(args)} in {repo}: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else 'failed'}")
    return p.stdout.rstrip()


def toplevel(repo: str | Path) -> Path:
    repo = Path(repo)
    if not repo.is_dir():
        raise GitError(f"{repo}: no such directory (--repo names the project's git repository)")
    try:
        return Path(git(repo, "rev-parse", "--show-toplevel"))
    except GitError:
        raise GitError(f"{repo}: not a git repository (--repo names the project's git repository)") from None


def check_clean(repo: Path):
    """Refuse uncommitted changes to tracked files: what is measured must be what a commit holds."""
    dirty = git(repo, "status", "--porcelain", "--untracked-files=no")
    if dirty:
        files = ", ".join(line[3:] for line in dirty.splitlines()[:5])
        raise GitError(f"{repo} has uncommitted changes ({files}); commit or stash them first")


def resolve(repo: Path, rev: str) -> str:
    """The full commit hash of REV, or GitError naming it."""
    out = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if not out:
        raise GitError(f"revision {rev!r} does not exist in {repo}")
    return out


def commit_time(repo: Path, rev: str) -> str | None:
    """The committer time of REV (ISO 8601), None when it is not a commit there."""
    try:
        return git(repo, "show", "-s", "--format=%cI", resolve(repo, rev)) or None
    except GitError:
        return None


def between(repo: Path, good: str, bad: str) -> list[str]:
    """The commits after GOOD up to and including BAD along the first-parent line, oldest first."""
    if subprocess.run(["git", "merge-base", "--is-ancestor", good, bad], cwd=repo, capture_output=True).returncode:
        raise GitError(f"{good[:12]} (good) is not an ancestor of {bad[:12]} (bad); give the older commit as --good")
    out = git(repo, "rev-list", "--reverse", "--first-parent", "--ancestry-path", f"{good}..{bad}")
    return out.split() if out else []


def subject(repo: Path, commit: str) -> str:
    return git(repo, "show", "-s", "--format=%s", commit, check=False)


@contextlib.contextmanager
def worktree(repo: Path, commit: str):
    """A temporary detached worktree of COMMIT, removed afterwards (the user's checkout is not touched)."""
    parent = Path(tempfile.mkdtemp(prefix="benchbench-bisect-"))
    path = parent / commit[:12]
    try:
        git(repo, "worktree", "add", "--detach", "--force", str(path), commit, timeout=300)
        yield path
    finally:
        with contextlib.suppress(GitError):
            git(repo, "worktree", "remove", "--force", str(path), check=False)
        shutil.rmtree(parent, ignore_errors=True)
        with contextlib.suppress(GitError):
            git(repo, "worktree", "prune", check=False)


def suite_in(repo: Path, wt: Path, suite: Path, at: Path | None = None) -> Path:
    """The suite as a run at a worktree must read it: the suite's text placed where `at` (default: the suite
    itself) lies in the repository, so a py: model found beside it is the commit's, not the checkout's. A
    suite outside the repository stays where it is."""
    suite = Path(suite).resolve()
    try:
        rel = Path(at or suite).resolve().relative_to(toplevel(repo).resolve())
    except (ValueError, GitError):
        return suite
    dest = Path(wt) / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(suite, dest)
    return dest
