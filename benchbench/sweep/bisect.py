"""Bisection of a performance change: the first commit between GOOD and BAD whose measurement is BAD's.

Every probed commit is checked out into a temporary git worktree (the user's checkout is never
touched), `--setup` runs there, then `benchbench run SUITE --config ID` runs in it: the worktree is
the working directory and first on PYTHONPATH, and PYTHONPATH entries inside the repository are
moved into the worktree, so `py:` models and libraries alike come from the commit. With `--setup`,
the probe has a throwaway virtual environment (probe_venv) that sees the user's packages and takes
whatever the setup installs; the user's environment is never written. Each probe is an ordinary
run directory; children run in their own process group, which is ended when the bisection is. A probe
is judged against both ends by the caller's Judge (commands/bisect.py gives the statistics of the
history's change points, which live above the sweep): it is BAD's when it differs from GOOD and not
from BAD, GOOD's in the mirror case, else whichever end its median is nearer (the note says so).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchbench.basics.errors import UserError
from benchbench.sweep import gitrepo

BENCHBENCH_ROOT = Path(__file__).resolve().parents[2]
MIN_REPEATS = 2  # ok repeats a probe needs before it is judged (Judge.values)


# BisectError: bisection cannot go on (a probe that failed, ends that do not differ): the message says why
BisectError = UserError


@dataclass(frozen=True)
class Judge:
    """How a probe is read and told apart from another, given by the caller.
    values(run_dir, config_id, metric or None) -> (the config's per-repeat values, the metric);
    differ(a, b) -> (ratio b/a, its interval's low, high, the noise floor, whether they differ)."""
    values: Callable[[Path, str, str | None], tuple[np.ndarray, str]]
    differ: Callable[[np.ndarray, np.ndarray], tuple[float, float, float, float, bool]]


@dataclass
class Probe:
    commit: str
    run_dir: Path
    values: np.ndarray
    value: float
    verdict: str = ""      # good | bad (the ends: themselves)
    note: str = ""


@dataclass
class Bisection:
    metric: str
    probes: list[Probe] = field(default_factory=list)
    first_bad: str | None = None
    candidates: int = 0    # commits after GOOD up to BAD


def probe_pythonpath(repo: Path, wt: Path, given: str) -> str:
    """The probe's PYTHONPATH: the worktree, benchbench, then the user's entries, where an entry inside
    the repository (the checkout, its src/) is the same folder of the worktree: the commit's code, never
    the checkout's."""
    repo = Path(repo).resolve()
    moved = []
    for entry in (e for e in given.split(os.pathsep) if e):
        p = Path(entry).resolve()
        moved.append(str(wt / p.relative_to(repo)) if p == repo or repo in p.parents else entry)
    return os.pathsep.join(dict.fromkeys([str(wt), str(BENCHBENCH_ROOT), *moved]))


def probe_venv(where: Path) -> dict:
    """A throwaway virtual environment for one probe's --setup, and the environment variables that make
    the setup and the probe use it: it sees every package of this interpreter (a .pth file adds its
    site folders, after the venv's own) and takes what the setup installs (`pip install -e .`, even
    `pip install --user`: PYTHONUSERBASE points inside it). Removed with the worktree."""
    import site
    import venv

    venv.EnvBuilder(system_site_packages=True, with_pip=True, symlinks=os.name != "nt").create(where)
    bindir = where / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    # "zz": after the venv's own .pth files, so a package the setup installs wins over the user's copy
    (Path(purelib) / "zz-benchbench-parent.pth").write_text(
        "".join(f"import site; site.addsitedir({d!r})\n" for d in ours if Path(d).is_dir()))
    return {"VIRTUAL_ENV": str(where), "PATH": os.pathsep.join([str(bindir), os.environ.get("PATH", "")]),
            "PYTHONUSERBASE": str(where / "userbase"), "PIP_USER": "0", "PYTHON": str(py)}


def run_child(cmd, *, timeout_s: float | None = None, **kw) -> int:
    """A child in its own process group, ended with it (SIGTERM, then SIGKILL) when the bisection stops
    for any reason: Ctrl-C, SIGTERM (basics/signals.py turns it into an exception), a timeout."""
    import signal

    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    try:
        return p.wait(timeout=timeout_s)
    except BaseException:
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(p.pid, sig)
                p.wait(timeout=grace)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        raise


def run_probe(repo: Path, commit: str, suite: Path, config_id: str, run_dir: Path, setup: str | None = None,
              smoke: bool = False, timeout_s: float | None = None) -> Path:
    """One `benchbench run` of one config at COMMIT, in a temporary worktree; the run directory."""
    with gitrepo.worktree(repo, commit) as wt:
        env = {**os.environ, "PYTHONPATH": probe_pythonpath(repo, wt, os.environ.get("PYTHONPATH", ""))}
        python = sys.executable
        if setup:  # beside the worktree, in the folder gitrepo.worktree removes
            env.update(probe_venv(wt.parent / "venv"))
            python = env.pop("PYTHON")
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        log = run_dir.with_name(run_dir.name + ".log")
        with open(log, "w") as f:
            if setup:
                f.write(f"$ {setup}\n")
                f.flush()
                rc = run_child(setup, shell=True, cwd=wt, env=env, stdout=f, stderr=subprocess.STDOUT, timeout_s=timeout_s)
                if rc:
                    raise BisectError(f"--setup failed at {commit[:12]} (exit {rc}); its output: {log}")
            cmd = [python, "-m", "benchbench.cli", "run", str(gitrepo.suite_in(repo, wt, suite)), "--config", config_id, "-o", str(run_dir),
                   "-q", *(["--smoke"] if smoke else [])]
            f.write("$ " + " ".join(cmd) + "\n")
            f.flush()
            rc = run_child(cmd, cwd=wt, env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout_s=timeout_s)
        if rc:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise BisectError(f"benchbench run failed at {commit[:12]} (exit {rc}): {tail} (log: {log})")
    return run_dir


def classify(p: np.ndarray, good: np.ndarray, bad: np.ndarray, judge: Judge) -> tuple[str, str]:
    """('good'|'bad', note) of a probe's repeat values against both ends'."""
    from_good = judge.differ(good, p)[4]
    from_bad = judge.differ(bad, p)[4]
    if from_good and not from_bad:
        return "bad", ""
    if from_bad and not from_good:
        return "good", ""
    near_bad = abs(math.log(np.median(p) / np.median(bad))) < abs(math.log(np.median(p) / np.median(good)))
    why = "differs from both ends" if from_good else "within the noise of both ends"
    return ("bad" if near_bad else "good"), f"{why}; nearer the {'bad' if near_bad else 'good'} end"


def bisect(repo: Path, good: str, bad: str, suite: Path, config_id: str, out: Path, setup: str | None = None,
           smoke: bool = False, metric: str | None = None, on_probe=None, log=print, *, judge: Judge) -> Bisection:
    """Measure GOOD and BAD, refuse ends that do not differ, then halve the commits between them.
    on_probe(run_dir) is called after every probe (the history adds it)."""
    commits = gitrepo.between(repo, good, bad)
    res = Bisection(metric=metric or "", candidates=len(commits))

    def measure(commit: str, verdict: str = "") -> Probe:
        i = len(res.probes) + 1
        log(f"probe {i}: {commit[:12]} {gitrepo.subject(repo, commit)}")
        d = run_probe(repo, commit, suite, config_id, out / f"probe-{i}-{commit[:12]}", setup, smoke)
        if on_probe:
            on_probe(d)
        v, res.metric = judge.values(d, config_id, res.metric or None)
        p = Probe(commit, d, v, float(np.median(v)), verdict)
        res.probes.append(p)
        return p

    g, b = measure(good, "good"), measure(bad, "bad")
    ratio, lo, hi, floor, differ = judge.differ(g.values, b.values)
    if not differ:
        raise BisectError(f"{res.metric} at {good[:12]} (good) and {bad[:12]} (bad) do not differ: bad/good = "
                          f"{ratio:.3f} [{lo:.3f}, {hi:.3f}], noise floor {floor:.1%}; nothing to bisect (more repeats, "
                          f"or other ends)")
    lo_i, hi_i = -1, len(commits) - 1      # commits[lo_i] is good (-1: GOOD itself), commits[hi_i] bad
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        p = measure(commits[mid])
        p.verdict, p.note = classify(p.values, g.values, b.values, judge)
        log(f"  {p.verdict}: {p.value:.6g}" + (f" ({p.note})" if p.note else ""))
        if p.verdict == "bad":
            hi_i = mid
        else:
            lo_i = mid
    res.first_bad = commits[hi_i]
    return res
