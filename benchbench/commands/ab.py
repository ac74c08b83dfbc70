"""`benchbench ab SUITE --a-rev REV --b-rev REV` and `benchbench ab SUITE_A SUITE_B`: A's and B's repeats
run alternately on this machine (sweep/ab.py), into DIR/a and DIR/b; then `compare DIR/a DIR/b` with
no between-run variance, which the interleaving removes."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from pathlib import Path

from rich.markup import escape

from benchbench.analysis import compare
from benchbench.basics.errors import Terminated
from benchbench.basics import signals
from benchbench.commands.common import UsageError, console
from benchbench.present import compare as show_compare
from benchbench.spec import suite as suites
from benchbench.store import results
from benchbench.sweep import ab, gitrepo


def _check(args) -> tuple[list[Path], int]:
    """The suites (one per side) and the repeats; UsageError for input ab cannot run."""
    if len(args.suites) > 2:
        raise UsageError(f"ab takes one suite (with --a-rev and --b-rev) or two suites (SUITE_A SUITE_B), got {len(args.suites)}")
    revs = [r for r in (args.a_rev, args.b_rev) if r]
    if len(args.suites) == 2 and revs:
        raise UsageError("ab SUITE_A SUITE_B runs both suites on the current code; --a-rev/--b-rev go with one suite")
    if len(args.suites) == 1 and len(revs) != 2:
        raise UsageError("ab SUITE needs both --a-rev REV and --b-rev REV (two revisions of the repository), "
                         "or give two suites: ab SUITE_A SUITE_B")
    paths = [Path(s).resolve() for s in args.suites]
    if revs:  # the revisions' code is the repository's: its py: models are found there (in the sides: the worktree)
        from benchbench.models import user  # the registry imports torch: only once there is a suite to load

        with contextlib.suppress(gitrepo.GitError):  # a bad --repo is said below, where it is used
            user.also(gitrepo.toplevel(args.repo or "."))
    for given, p in zip(args.suites, paths):
        if not p.is_file():
            raise UsageError(f"{given}: no such suite file")
        suites.load(p)   # SuiteError: the suite's own problems, one line each
    if len(paths) == 1:
        paths = paths * 2
    repeats = args.repeats if args.repeats is not None else ab.default_repeats(paths[0], args.smoke)
    if repeats < ab.MIN_REPEATS:
        raise UsageError(f"--repeats {repeats}: ab needs at least {ab.MIN_REPEATS} repeats a side (a verdict needs 3 "
                         "ok repeats on each side)")
    return paths, repeats


def main(args) -> int:
    err, out = console(stderr=True), console()
    try:
        with signals.sigterm_as_interrupt():  # SIGTERM unwinds like Ctrl-C: the child ends, the worktrees go
            return _ab(args, err, out)
    except KeyboardInterrupt as e:  # run_child ended the child; the worktrees' context removed them
        what = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
        err.print(f"[yellow]ab {what}[/]: its child ended and its worktrees removed; the repeats made so far are "
                  "recorded in the side directories", highlight=False)
        return 143 if isinstance(e, Terminated) else 130


def _ab(args, err, out) -> int:
    paths, repeats = _check(args)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    where = Path(args.output or Path("results") / "ab" / stamp).resolve()
    say = lambda m: err.print(escape(m), highlight=False, soft_wrap=True)  # noqa: E731
    ids = ab.config_ids(paths[0], paths[1], args.config, args.smoke)
    with contextlib.ExitStack() as stack:
        sides = {"a": ab.Side("a", paths[0], where / "a", Path.cwd(), ab.current_env()),
                 "b": ab.Side("b", paths[1], where / "b", Path.cwd(), ab.current_env())}
        if args.suites and len(args.suites) == 1:
            repo = gitrepo.toplevel(args.repo or ".")
            commits = {"a": gitrepo.resolve(repo, args.a_rev), "b": gitrepo.resolve(repo, args.b_rev)}
            for name, commit in commits.items():
                wt = stack.enter_context(gitrepo.worktree(repo, commit))
                sides[name].cwd, sides[name].env, sides[name].commit = wt, ab.revision_env(repo, wt), commit
                sides[name].suite = gitrepo.suite_in(repo, wt, sides[name].suite)
            say(f"ab {args.suites[0]}: A = {args.a_rev} ({commits['a'][:12]}), B = {args.b_rev} "
                f"({commits['b'][:12]}), {repeats} repeats each, interleaved -> {where}")
        else:
            say(f"ab: A = {args.suites[0]}, B = {args.suites[1]}, {repeats} repeats each, interleaved -> {where}")
        for s in sides.values():
            ab.start(s, ids, args.smoke, repeats)
        ab.interleave(sides, repeats, where, log=say)
    return _compare(out, where, args.metric)


def _compare(out, where: Path, metric: str | None) -> int:
    """`compare DIR/a DIR/b` with between_run_sd=0: the interleaved sides shared the machine's drift."""
    a_dir, b_dir = where / "a", where / "b"
    a, b = results.load(a_dir), results.load(b_dir)
    if a.empty or b.empty:
        raise UsageError(f"{a_dir if a.empty else b_dir}: the side has no rows")
    if metric is None:  # bisect's default: throughput in tokens where the model counts them, else samples
        metric = "tokens_per_s" if "tokens_per_s" in a and a["tokens_per_s"].notna().any() else "samples_per_s"
    t = compare.compare(a, b, metric, between_run_sd=0.0)
    show_compare.show(out, show_compare.heading(t, str(a_dir), str(b_dir)), show_compare.render(t, str(a_dir), str(b_dir)))
    out.print(", ".join(f"{k}: {v}" for k, v in t["verdict"].value_counts().to_dict().items()))
    out.print(escape("between-run variance 0: A's and B's repeats alternated on one machine, so its drift hit both "
                     f"sides alike (benchbench compare {a_dir} {b_dir} gives the same table with a between-run term)"),
              highlight=False, soft_wrap=True)
    return 0
