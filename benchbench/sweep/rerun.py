"""`explain --rerun`: the configs whose step time changed, run again with the profiler on both sides.

Each side reruns from its own run directory: its suite (suite.yaml), its settings (run.json: smoke and the
command line's overrides) and its code. When the two runs record different git commits (env.json), each
side runs at its commit in a temporary worktree of the repository (as `ab` and `bisect` do); with the same
commit, or none recorded, both run on the code here. A's and B's repeats alternate (sweep/ab.py), so a drift
of the machine lands on both alike. The profiler's window runs after the timed one, so the reruns measure
as the originals did. The reruns are new run directories (DIR/a, DIR/b), never the originals.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from benchbench.basics.errors import UserError
from benchbench.store import results
from benchbench.sweep import ab, gitrepo


RerunError = UserError  # the runs cannot be rerun (another suite on each side, a commit not in the repository)


@dataclass
class Origin:
    run_dir: Path
    suite: str
    smoke: bool
    overrides: dict
    commit: str | None
    dirty: bool
    suite_path: str | None = None  # where the suite lay when the run started (run.json)


def origin(run_dir) -> Origin:
    """What a run directory says about how it was made; RerunError when it cannot be made again."""
    d = Path(run_dir)
    if not (d / "run.json").is_file() or not (d / "suite.yaml").is_file():
        raise RerunError(f"{d}: no run.json and suite.yaml to rerun it from")
    run = results.read_json(d / "run.json")
    env = results.read_json(d / "env.json") if (d / "env.json").is_file() else {}
    return Origin(d, str(run.get("suite")), bool(run.get("smoke")), dict(run.get("overrides") or {}),
                  env.get("git_commit") or None, bool(env.get("git_dirty")), run.get("suite_path"))


def check(a: Origin, b: Origin):
    if a.suite != b.suite:
        raise RerunError(f"the runs are of different suites ({a.suite!r} and {b.suite!r}): --rerun reruns one "
                         "suite's configs on both sides")
    if a.smoke != b.smoke:
        raise RerunError("one run is a --smoke run and the other is not: their configs are not the same runs")


def revisions(a: Origin, b: Origin, repo=".") -> tuple[Path | None, dict]:
    """(the repository, {side: full commit}) when the runs record different commits, else (None, {});
    RerunError when the repository lacks one."""
    if not (a.commit and b.commit and a.commit != b.commit):
        return None, {}
    try:
        top = gitrepo.toplevel(repo)
        return top, {s: gitrepo.resolve(top, o.commit) for s, o in (("a", a), ("b", b))}
    except gitrepo.GitError as e:
        raise RerunError(f"{e} (the runs record different commits; --repo names the repository holding both)") from None


def rerun(a: Origin, b: Origin, ids: list[str], out: Path, repo=".", log=print) -> tuple[Path, Path]:
    """Profiled reruns of `ids` on both sides into OUT/a and OUT/b (every side's code; see the module)."""
    check(a, b)
    top, commits = revisions(a, b, repo)
    if commits:  # the revisions' code is the repository's: its py: models are found there (in the sides: the worktree)
        from benchbench.models import user  # the registry imports torch: only once there is a rerun to make

        user.also(top)
    if (out / "a").exists() or (out / "b").exists():
        raise RerunError(f"{out} already holds reruns; give an empty folder")
    repeats = int(b.overrides.get("repeats") or ab.default_repeats(b.run_dir / "suite.yaml", b.smoke))
    sides = {s: ab.Side(s, o.run_dir.resolve() / "suite.yaml", out / s, Path.cwd(), ab.current_env())
             for s, o in (("a", a), ("b", b))}
    try:
        with contextlib.ExitStack() as stack:
            if commits:
                for s, o in (("a", a), ("b", b)):
                    commit = commits[s]
                    wt = stack.enter_context(gitrepo.worktree(top, commit))
                    sides[s].cwd, sides[s].env, sides[s].commit = wt, ab.revision_env(top, wt), commit
                    if o.suite_path:  # placed where the original suite lay: py: models beside it are the commit's
                        sides[s].suite = gitrepo.suite_in(top, wt, sides[s].suite, at=Path(o.suite_path))
                    if o.dirty:
                        log(f"{s.upper()} ran with uncommitted changes; its rerun runs commit {commit[:12]} as committed")
                log(f"rerun: A at {a.commit[:12]}, B at {b.commit[:12]} (temporary worktrees of {top})")
            else:
                log("rerun: the same code on both sides (" + (f"commit {a.commit[:12]}" if a.commit else "no commit recorded")
                    + "): both run here")
            for s, o in (("a", a), ("b", b)):
                over = {k: v for k, v in o.overrides.items() if k != "repeats"}
                ab.start(sides[s], ids, o.smoke, repeats, {**over, "profile": True})
                run = results.read_json(out / s / "run.json")
                results.write_json(out / s / "run.json", {**run, "rerun_of": str(o.run_dir.resolve())})
            ab.interleave(sides, repeats, out, log=log)
    except (ab.AbError, gitrepo.GitError) as e:
        raise RerunError(str(e)) from None
    return out / "a", out / "b"
