"""A run's directory before anything runs: the suite checked and expanded, the directory made (or the
one to --resume found) and locked, run.json and env.json written.

Messages name the command line's flags: this is the engine of `benchbench run`, and its errors are the
user's to fix (UserError, exit 2) before anything is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import shutil
import sys
from pathlib import Path

from benchbench.basics.errors import UserError
from benchbench.plan import runtime as estimate
from benchbench.spec import suite as suites
from benchbench.store import results
from benchbench.sweep import env, launch
from benchbench.worker.device import cuda_available

# A sweep this much larger than its time allows asks for --yes (like a GPU suite on a CPU asks for --smoke)
CONFIRM_CONFIGS = 10_000
MAX_CONFIGS = 1_000_000


def new_run_dir(suite_name: str, output: str | Path | None, results_root: str | Path) -> Path:
    """OUTPUT (refused when it holds a run), else RESULTS_ROOT/SUITE/<UTC time>-<id>; created."""
    if output:
        d = Path(output)
        if (d / results.ROWS).exists():
            raise UserError(f"{d} already holds a run; continue it with: benchbench run --resume {d}")
    else:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        d = Path(results_root) / suite_name / f"{stamp}-{secrets.token_hex(3)}"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{d}: cannot create the run directory: {e.strerror or e}") from None
    return d


@contextlib.contextmanager
def rundir_lock(run_dir: Path):
    """One sweep writes a run directory at a time: a second `run -o SAME` or `--resume` is refused."""
    import fcntl

    try:
        f = open(run_dir / ".lock", "w")
    except OSError as e:
        raise UserError(f"{run_dir}: cannot write there ({e.strerror or e}); choose a writable -o DIR") from None
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise UserError(f"{run_dir} is being written by another benchbench run (its .lock is held); wait for it, "
                        "or use another -o") from None
    try:
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def against(run_dir: str | Path) -> str:
    """--against RUN: a finished run with rows (its repeats are the reference of repeats: auto)."""
    if not (Path(run_dir) / results.ROWS).is_file():
        raise UserError(f"--against {run_dir}: not a run directory with rows (rows.jsonl); name a finished run")
    return str(Path(run_dir).resolve())


def only(configs, ids):
    """The configs named by --config (all when none is named); an id the suite does not make is refused."""
    if not ids:
        return configs
    have = {c.config_id for c in configs}
    unknown = [i for i in ids if i not in have]
    if unknown:
        raise UserError(f"--config {', '.join(unknown)}: not a config of this suite; its configs: "
                        f"{', '.join(sorted(have)[:20])}{' ...' if len(have) > 20 else ''} (benchbench run SUITE prints them)")
    return [c for c in configs if c.config_id in set(ids)]


def check_size(suite, yes: bool):
    """A sweep far larger than its time allows asks for --yes before anything is written."""
    n = suites.raw_size(suite)
    if n > MAX_CONFIGS:  # not even with --yes: expanding it would exhaust memory before anything runs
        raise UserError(f"suite {str(suite)!r} expands to {n:,} configs; benchbench runs at most {MAX_CONFIGS:,} per "
                        "suite: narrow the sweep (exclude:, fewer axis values) or split it into several suites")
    if n <= CONFIRM_CONFIGS or yes:
        return
    raise UserError(f"suite {str(suite)!r} expands to {n:,} configs (more than {CONFIRM_CONFIGS:,}); at a few seconds "
                    f"of fixed cost each that is over {estimate.human_duration(3 * n)} before any step is measured. "
                    "Narrow the sweep (exclude:, fewer axis values), or add --yes to run it anyway")


def check_runs(suite, configs, yes: bool):
    """The guard counts runs (configs x repeats; repeats: auto at its max_repeats), not configs alone."""
    n = sum(c.max_repeats if c.repeats == "auto" else c.repeats for c in configs)
    if yes or n <= CONFIRM_CONFIGS:
        return
    raise UserError(f"suite {str(suite)!r} makes {n:,} runs ({len(configs):,} configs x their repeats; more than "
                    f"{CONFIRM_CONFIGS:,}); at a few seconds of fixed cost each that is over "
                    f"{estimate.human_duration(3 * n)} before any step is measured. Lower repeats or narrow the "
                    "sweep, or add --yes to run it anyway")


def gpu_suite_on_cpu(configs, suite_name: str) -> str | None:
    """The advice for a GPU suite on a machine without one (None where that is not the case)."""
    if not any(c.device == "cuda" for c in configs) or cuda_available():
        return None
    cpu_configs = [c.model_copy(update={"device": "cpu"}) for c in configs]
    try:
        eta = estimate.human_duration(estimate.cpu_seconds(cpu_configs))
    except Exception:  # a model that cannot be built on the meta device: no estimate, same advice
        eta = "a long time"
    return (f"suite {suite_name!r} is meant for a GPU (device: cuda) and this machine has none.\n"
            f"Its {len(configs)} configs at full scale would take roughly {eta} on this CPU.\n"
            f"  --smoke        checks every config at tiny scale (about {estimate.human_duration(8 * len(configs))})\n"
            f"  --device cpu   runs the full sweep here anyway")


def resume(suite, o, stack: contextlib.ExitStack):
    """(suite, configs, run_dir, run.json) of the run --resume continues, its directory locked."""
    given = [flag for flag, on in (("SUITE", suite), ("--smoke", o.smoke), ("--device", o.device),
                                   ("--output", o.output), ("--profile", o.profile), ("--pyspy", o.pyspy),
                                   ("--nnodes", o.nnodes), ("--config", o.configs)) if on]
    if given:
        raise UserError(f"--resume continues a run with the suite and options it started with; drop {', '.join(given)}")
    run_dir = Path(o.resume)
    if not (run_dir / "run.json").exists() or not (run_dir / "suite.yaml").exists():
        raise UserError(f"{run_dir}: not a benchbench run directory (needs run.json and suite.yaml)")
    stack.enter_context(rundir_lock(run_dir))
    run = results.read_json(run_dir / "run.json")
    suite = suites.load(run_dir / "suite.yaml")
    configs = only(suite.expand(smoke=run["smoke"], overrides=run["overrides"]), run.get("only"))
    return suite, configs, run_dir, run


def start(path, o, leader: bool, stack: contextlib.ExitStack):
    """(suite, configs, run_dir, run.json) of a new run: checked, its directory made and locked, run.json
    and env.json written (a follower machine only finds the directory: node 0 writes them)."""
    if not path:
        raise UserError("name a suite file (e.g. suites/quickstart.yaml) or --resume RUN_DIR")
    suite = suites.load(path)
    overrides = {"device": o.device} if o.device else {}
    overrides.update({flag: True for flag in ("profile", "pyspy") if getattr(o, flag)})
    if o.nnodes is not None:
        if o.nnodes < 1:
            raise UserError(f"--nnodes {o.nnodes}: must be 1 or more")
        overrides["nnodes"] = o.nnodes
    configs = only(suite.expand(smoke=o.smoke, overrides=overrides), o.configs)
    check_runs(path, configs, o.yes)
    if any(c.nnodes > 1 for c in configs) and not o.output:
        raise UserError("configs with nnodes > 1 need -o/--output: the same run directory on every machine, on a "
                        "filesystem they all share (each rank writes its result there)")
    if not leader:  # a follower: node 0 writes run.json, env.json and the rows
        run_dir = Path(o.output)
        run_dir.mkdir(parents=True, exist_ok=True)
        return suite, configs, run_dir, {"run_id": run_dir.name, "suite": suite.name, "overrides": overrides}
    problems = suites.check_models(suite, configs)
    if problems:
        raise UserError(problems)
    if not o.smoke and not o.device:
        notice = gpu_suite_on_cpu(configs, suite.name)
        if notice:
            raise UserError(notice)
    if o.against:
        against(o.against)   # refused before a run directory is made
    # smoke runs live apart from real ones (RESULTS/smoke/SUITE/...): they measure nothing
    run_dir = new_run_dir(f"smoke/{suite.name}" if o.smoke else suite.name, o.output, o.results_root)
    stack.enter_context(rundir_lock(run_dir))
    if (run_dir / results.ROWS).exists():  # another run finished here between the check and the lock
        raise UserError(f"{run_dir} already holds a run; continue it with: benchbench run --resume {run_dir}")
    shutil.copyfile(path, run_dir / "suite.yaml")
    run = {
        "run_id": run_dir.name,
        "suite": suite.name,
        "suite_path": str(path),
        "suite_sha256": suite.sha256,
        "smoke": bool(o.smoke),
        "overrides": overrides,
        "baseline_config_id": suite.baseline_id(smoke=bool(o.smoke), overrides=overrides),
        "config_ids": [c.config_id for c in configs],
        **({"only": list(o.configs)} if o.configs else {}),
        **({"repeats_against": against(o.against)} if o.against else {}),
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": list(o.command) if o.command is not None else sys.argv,
    }
    results.write_json(run_dir / "run.json", run)
    if o.prestart and o.gpus in (None, "1") and any(c.device == "cuda" and c.world_size == 1 for c in configs):
        stack.callback(launch.shutdown)
        launch.prewarm()  # the workers' imports while the environment is recorded, off the sweep's path
    results.write_json(run_dir / "env.json", env.capture())
    return suite, configs, run_dir, run
