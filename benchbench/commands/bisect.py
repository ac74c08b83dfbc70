"""`benchbench bisect SUITE --config ID --good REV --bad REV [--repo PATH] [--setup CMD]`: the first
commit whose measurement is the bad end's (sweep/bisect.py); every probe is a run directory and goes
into the history."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import numpy as np
from rich.markup import escape

from benchbench.analysis import changepoints, series
from benchbench.analysis.records import add_runs
from benchbench.basics.errors import Terminated
from benchbench.basics import signals
from benchbench.commands.common import UsageError, console
from benchbench.spec import suite as suites
from benchbench.store import history
from benchbench.sweep import bisect, gitrepo


def _check(args) -> tuple[Path, str, str, Path]:
    suite = Path(args.suite).resolve()
    if not suite.is_file():
        raise UsageError(f"{args.suite}: no such suite file")
    repo = gitrepo.toplevel(args.repo or ".")
    from benchbench.models import user  # the registry imports torch: only once there is a suite to load

    user.also(repo)  # the code under test is the repository's: its py: models are found there
    cfgs = suites.load(suite).expand(smoke=args.smoke)
    repeats = next((c.repeats for c in cfgs if c.config_id == args.config), cfgs[0].repeats if cfgs else 1)
    if args.smoke and repeats != "auto" and int(repeats) < bisect.MIN_REPEATS:
        raise UsageError(f"bisect --smoke: a smoke run makes {repeats} repeat(s) and bisect judges each probe on at "
                         f"least {bisect.MIN_REPEATS}; give the suite `smoke: {{repeats: 3}}` (tiny-scale probes then "
                         "bisect a change that shows at tiny scale), or bisect without --smoke")
    ids = {c.config_id for c in cfgs}
    if args.config not in ids:
        raise UsageError(f"--config {args.config}: not a config of {args.suite}; its configs: {', '.join(sorted(ids)[:20])}"
                         + (" (--smoke makes other config ids: run `benchbench run SUITE --smoke` to see them)"
                            if args.smoke else ""))
    gitrepo.check_clean(repo)
    good, bad = gitrepo.resolve(repo, args.good), gitrepo.resolve(repo, args.bad)
    if good == bad:
        raise UsageError(f"--good and --bad are the same commit ({good[:12]})")
    gitrepo.between(repo, good, bad)  # refuses a good that is not an ancestor of bad
    return repo, good, bad, suite


def probe_values(run_dir: Path, config_id: str, metric: str | None) -> tuple[np.ndarray, str]:
    """The per-repeat values of the config in a probe's run, and the metric (default: its throughput)."""
    rec = series.run_record(run_dir)
    status = next((c["status"] for c in rec["configs"] if c["config_id"] == config_id), None)
    have = {r["metric"] for r in rec["repeats"] if r["config_id"] == config_id}
    metric = metric or ("tokens_per_s" if "tokens_per_s" in have else "samples_per_s")
    v = np.array([r["value"] for r in rec["repeats"] if r["config_id"] == config_id and r["metric"] == metric])
    if status != "ok" or v.size < bisect.MIN_REPEATS:
        raise bisect.BisectError(f"{run_dir}: config {config_id} has status {status} and {v.size} repeats with "
                                 f"{metric}; bisect needs at least 2 ok repeats (repeats: 3 or more in the suite)")
    return v, metric


# The probes are judged with the statistics of the history's change points: the ratio of per-repeat
# values with a robust interval, and the noise floor
JUDGE = bisect.Judge(values=probe_values, differ=changepoints.judge)


def why(res, before: str, config_id: str) -> str | None:
    """The first bad commit's probe explained against the probe of the commit before it (benchbench explain's
    one line), when both probes' rows carry profiles (`profile: true` in the suite); else None."""
    from benchbench.analysis import explain
    from benchbench.store import results

    probes = {p.commit: p for p in res.probes}
    if before not in probes or res.first_bad not in probes:
        return None
    a, b = (results.load(probes[c].run_dir) for c in (before, res.first_bad))
    if a.empty or b.empty or not (explain.profiled(a) and explain.profiled(b)):
        return None
    try:
        return explain.explain_config(a[a["config_id"] == config_id], b[b["config_id"] == config_id],
                                      probes[before].run_dir, probes[res.first_bad].run_dir).lead
    except explain.ExplainError:
        return None


def main(args) -> int:
    err, out = console(stderr=True), console()
    try:
        with signals.sigterm_as_interrupt():  # SIGTERM unwinds like Ctrl-C: probes' children end, worktrees go
            return _bisect(args, err, out)
    except KeyboardInterrupt as e:  # the probe's children and its worktree are gone by now (sweep/bisect.py)
        what = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
        err.print(f"[yellow]bisect {what}[/]: its children ended and its worktrees removed; the probes made so far "
                  "are run directories in the history", highlight=False)
        return 143 if isinstance(e, Terminated) else 130


def _bisect(args, err, out) -> int:
    repo, good, bad, suite = _check(args)
    path = history.resolve_path(args.history_db)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    where = Path(args.output or Path("results") / "bisect" / stamp).resolve()
    err.print(escape(f"bisect {args.config} between {good[:12]} (good) and {bad[:12]} (bad) in {repo}: probes -> "
                     f"{where}, history -> {path}"), highlight=False, soft_wrap=True)
    res = bisect.bisect(repo, good, bad, suite, args.config, where, args.setup, args.smoke, args.metric,
                        on_probe=lambda d: add_runs(path, [d]), judge=JUDGE,
                        log=lambda m: err.print(escape(m), highlight=False, soft_wrap=True))
    for p in res.probes:
        out.print(escape(f"{p.commit[:12]}  {p.verdict:4}  {res.metric} {p.value:.6g}  {p.run_dir}"
                         + (f"  ({p.note})" if p.note else "")), highlight=False, soft_wrap=True)
    subject = gitrepo.subject(repo, res.first_bad)
    out.print(escape(f"first bad commit: {res.first_bad} {subject}"), highlight=False, soft_wrap=True)
    commits = gitrepo.between(repo, good, bad)
    i = commits.index(res.first_bad) if res.first_bad in commits else 0
    line = why(res, commits[i - 1] if i else good, args.config)
    if line:
        out.print(escape(f"why (the probes' profiles, against {(commits[i - 1] if i else good)[:12]}): {line}"),
                  highlight=False, soft_wrap=True)
    err.print(f"{len(res.probes)} probes for {res.candidates} commits", highlight=False)
    return 0

