"""Interleaved A/B runs: A's and B's repeats alternate on one machine, so a slow drift of the machine
(clocks, heat, neighbours) lands on both sides alike instead of on whichever ran second.

Each side is an ordinary run directory (rows.jsonl, run.json, env.json). Repeat r of a side is one
`benchbench run --resume SIDE` in a child process whose run.json asks for r + 1 repeats, so exactly
repeat r of every config runs; the order is A then B on even repeats, B then A on odd ones (an order
effect cancels too). The child runs where the side's code is: the working directory for two suites,
a temporary worktree of the side's commit for two revisions (the PYTHONPATH bisect's probes get).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchbench.basics.errors import UserError
from benchbench.spec import suite as suites
from benchbench.store import results
from benchbench.sweep import bisect, env

MIN_REPEATS = 3   # a verdict needs 3 ok repeats on each side (analysis/compare)
ORDER_FILE = "ab.json"


AbError = UserError  # an A/B run that cannot start or go on: the message says why


@dataclass
class Side:
    name: str                 # "a" | "b"
    suite: Path
    run_dir: Path
    cwd: Path                 # where the child runs (its code)
    env: dict = field(default_factory=dict)  # the child's environment (PYTHONPATH of a worktree)
    commit: str | None = None


def order(repeat: int) -> tuple[str, str]:
    """Which side runs first in repeat r: A on even repeats, B on odd ones."""
    return ("a", "b") if repeat % 2 == 0 else ("b", "a")


def config_ids(suite_a: Path, suite_b: Path, only: list[str] | None, smoke: bool) -> list[str]:
    """The config ids both sides run (compare joins on them); AbError when they differ or --config names
    one a suite lacks."""
    ids = []
    for path in (suite_a, suite_b):
        have = [c.config_id for c in suites.load(path).expand(smoke=smoke)]
        unknown = [i for i in only or [] if i not in have]
        if unknown:
            raise AbError(f"--config {', '.join(unknown)}: not a config of {path}; its configs: {', '.join(sorted(have)[:20])}")
        ids.append([i for i in have if not only or i in only])
    if set(ids[0]) != set(ids[1]):
        only_a, only_b = sorted(set(ids[0]) - set(ids[1])), sorted(set(ids[1]) - set(ids[0]))
        raise AbError(f"{suite_a} and {suite_b} make different configs (only in A: {', '.join(only_a[:5]) or '-'}; "
                      f"only in B: {', '.join(only_b[:5]) or '-'}); an A/B run compares the same configs: name them "
                      "with --config, or make the suites' axes the same")
    return ids[0]


def default_repeats(suite: Path, smoke: bool) -> int:
    """The suite's repeats (the most of its configs); 5 for `repeats: auto` (ab fixes the count up front)."""
    counts = [c.repeats for c in suites.load(suite).expand(smoke=smoke)]
    return max((int(r) for r in counts if r != "auto"), default=5)


def start(side: Side, ids: list[str], smoke: bool, repeats: int, overrides: dict | None = None):
    """The side's run directory: its suite, run.json (the configs, the repeats and any other `overrides`
    of the suite's settings, e.g. profile: true) and env.json (of the machine and of the side's code: its
    commit)."""
    d = side.run_dir
    if (d / results.ROWS).exists():
        raise AbError(f"{d} already holds a run; give ab an empty -o directory")
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(side.suite, d / "suite.yaml")
    suite = suites.load(side.suite)
    overrides = {**(overrides or {}), "repeats": repeats}
    now = dt.datetime.now(dt.timezone.utc)
    # unique like run directories' names: the history keys runs on run_id, and every ab writes an `a` and a `b`
    run = {"run_id": f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}-{side.name}", "suite": suite.name, "suite_path": str(side.suite),
           "suite_sha256": suite.sha256, "smoke": bool(smoke), "overrides": overrides,
           "baseline_config_id": suite.baseline_id(smoke=bool(smoke), overrides=overrides), "config_ids": ids,
           "only": ids, "interleaved": {"side": side.name, "with": str(d.parent / ("b" if side.name == "a" else "a"))},
           "started_at": now.isoformat(timespec="seconds"), "command": sys.argv}
    results.write_json(d / "run.json", run)
    captured = env.capture()
    captured.update(env.project_state(side.cwd))  # the side's commit, not the checkout's
    results.write_json(d / "env.json", captured)


def run_repeat(side: Side, repeat: int, timeout_s: float | None = None):
    """Repeat `repeat` of every config of the side: one `benchbench run --resume` whose run.json asks
    for repeat + 1 repeats (the earlier ones are recorded, so only this one runs)."""
    run = results.read_json(side.run_dir / "run.json")
    run["overrides"] = {**run.get("overrides", {}), "repeats": repeat + 1}
    results.write_json(side.run_dir / "run.json", run)
    log = side.run_dir.with_name(f"{side.name}.log")
    cmd = [sys.executable, "-m", "benchbench.cli", "run", "--resume", str(side.run_dir), "-q"]
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}  (repeat {repeat})\n")
        f.flush()
        rc = bisect.run_child(cmd, cwd=side.cwd, env={**os.environ, **side.env}, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout_s=timeout_s)
    if rc:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise AbError(f"side {side.name.upper()}, repeat {repeat}: benchbench run failed (exit {rc}): {tail} (log: {log})")


def interleave(sides: dict[str, Side], repeats: int, out: Path, log=print) -> list[dict]:
    """Run every repeat of both sides, alternating; the order is written to OUT/ab.json as it goes."""
    done: list[dict] = []
    for r in range(repeats):
        for name in order(r):
            log(f"repeat {r + 1}/{repeats}: {name.upper()}")
            run_repeat(sides[name], r)
            done.append({"repeat": r, "side": name,
                         "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")})
            results.write_json(out / ORDER_FILE, {"repeats": repeats, "order": done,
                                                  "sides": {k: {"run_dir": str(s.run_dir), "suite": str(s.suite),
                                                                "commit": s.commit} for k, s in sides.items()}})
    return done


def revision_env(repo: Path, wt: Path) -> dict:
    """The child's PYTHONPATH in a worktree: the commit's code first (as bisect's probes)."""
    return {"PYTHONPATH": bisect.probe_pythonpath(repo, wt, os.environ.get("PYTHONPATH", ""))}


def current_env() -> dict:
    """The child's PYTHONPATH for the current code: this benchbench first, then the user's entries."""
    given = [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys([str(bisect.BENCHBENCH_ROOT), *given]))}
