"""`benchbench run SUITE` and `benchbench run --resume RUN_DIR`."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from benchbench.analysis import summary as tables
from benchbench.commands.common import UsageError, console, new_run_dir
from benchbench.plan import memory_model
from benchbench.plan import runtime as estimate
from benchbench.present import terminal
from benchbench.spec import suite as suites
from benchbench.store import results
from benchbench.sweep import autobatch, env, launch, pool, runner
from benchbench.sweep.cluster import Cluster
from benchbench.worker import device
from benchbench.worker.device import cuda_available

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 2, 130, 143
# A sweep this much larger than its time allows asks for --yes (like a GPU suite on a CPU asks for --smoke)
CONFIRM_CONFIGS, CONFIRM_CPU_S = 10_000, 24 * 3600
MAX_CONFIGS = 1_000_000


def _gpu_suite_on_cpu(configs, suite_name: str) -> str | None:
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


def _prepare(args, cluster: Cluster, stack: contextlib.ExitStack) -> tuple[suites.Suite, list, Path, dict]:
    if args.resume:
        given = [flag for flag, on in (("SUITE", args.suite), ("--smoke", args.smoke), ("--device", args.device),
                                       ("--output", args.output), ("--profile", args.profile), ("--pyspy", args.pyspy),
                                       ("--nnodes", args.nnodes), ("--config", args.config)) if on]
        if given:
            raise UsageError(f"--resume continues a run with the suite and options it started with; drop {', '.join(given)}")
        run_dir = Path(args.resume)
        if not (run_dir / "run.json").exists() or not (run_dir / "suite.yaml").exists():
            raise UsageError(f"{run_dir}: not a benchbench run directory (needs run.json and suite.yaml)")
        stack.enter_context(rundir_lock(run_dir))
        run = results.read_json(run_dir / "run.json")
        suite = suites.load(run_dir / "suite.yaml")
        configs = only(suite.expand(smoke=run["smoke"], overrides=run["overrides"]), run.get("only"))
        return suite, configs, run_dir, run
    if not args.suite:
        raise UsageError("name a suite file (e.g. suites/quickstart.yaml) or --resume RUN_DIR")
    suite = suites.load(args.suite)
    overrides = {"device": args.device} if args.device else {}
    overrides.update({flag: True for flag in ("profile", "pyspy") if getattr(args, flag)})
    if args.nnodes is not None:
        if args.nnodes < 1:
            raise UsageError(f"--nnodes {args.nnodes}: must be 1 or more")
        overrides["nnodes"] = args.nnodes
    configs = only(suite.expand(smoke=args.smoke, overrides=overrides), args.config)
    _check_runs(args, configs)
    if any(c.nnodes > 1 for c in configs) and not args.output:
        raise UsageError("configs with nnodes > 1 need -o/--output: the same run directory on every machine, on a "
                         "filesystem they all share (each rank writes its result there)")
    if not cluster.leader:  # a follower: node 0 writes run.json, env.json and the rows
        run_dir = Path(args.output)
        run_dir.mkdir(parents=True, exist_ok=True)
        return suite, configs, run_dir, {"run_id": run_dir.name, "suite": suite.name, "overrides": overrides}
    problems = suites.check_models(suite, configs)
    if problems:
        raise suites.SuiteError(problems)
    if not args.smoke and not args.device:
        notice = _gpu_suite_on_cpu(configs, suite.name)
        if notice:
            raise UsageError(notice)
    if getattr(args, "against", None):
        against(args.against)   # refused before a run directory is made
    # smoke runs live apart from real ones (RESULTS/smoke/SUITE/...): they measure nothing
    run_dir = new_run_dir(f"smoke/{suite.name}" if args.smoke else suite.name, args.output, args.results_root)
    stack.enter_context(rundir_lock(run_dir))
    if (run_dir / results.ROWS).exists():  # another run finished here between the check and the lock
        raise UsageError(f"{run_dir} already holds a run; continue it with: benchbench run --resume {run_dir}")
    shutil.copyfile(args.suite, run_dir / "suite.yaml")
    run = {
        "run_id": run_dir.name,
        "suite": suite.name,
        "suite_path": str(args.suite),
        "suite_sha256": suite.sha256,
        "smoke": bool(args.smoke),
        "overrides": overrides,
        "baseline_config_id": suite.baseline_id(smoke=bool(args.smoke), overrides=overrides),
        "config_ids": [c.config_id for c in configs],
        **({"only": list(args.config)} if args.config else {}),
        **({"repeats_against": against(args.against)} if getattr(args, "against", None) else {}),
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
    }
    results.write_json(run_dir / "run.json", run)
    if not args.no_prestart and args.gpus in (None, "1") and any(c.device == "cuda" and c.world_size == 1 for c in configs):
        stack.callback(launch.shutdown)
        launch.prewarm()  # the workers' imports while the environment is recorded, off the sweep's path
    results.write_json(run_dir / "env.json", env.capture())
    return suite, configs, run_dir, run


def against(run_dir: str) -> str:
    """--against RUN: a finished run with rows (its repeats are the reference of repeats: auto)."""
    if not (Path(run_dir) / results.ROWS).is_file():
        raise UsageError(f"--against {run_dir}: not a run directory with rows (rows.jsonl); name a finished run")
    return str(Path(run_dir).resolve())


def only(configs, ids):
    """The configs named by --config (all when none is named); an id the suite does not make is refused."""
    if not ids:
        return configs
    have = {c.config_id for c in configs}
    unknown = [i for i in ids if i not in have]
    if unknown:
        raise UsageError(f"--config {', '.join(unknown)}: not a config of this suite; its configs: "
                         f"{', '.join(sorted(have)[:20])}{' ...' if len(have) > 20 else ''} (benchbench run SUITE prints them)")
    return [c for c in configs if c.config_id in set(ids)]


def main(args) -> int:
    out, err = console(), console(stderr=True)
    if args.history and args.history.endswith((".yaml", ".yml")) and not args.suite:  # `run --history SUITE`
        args.suite, args.history = args.history, ""
    cluster = Cluster.from_settings(args.node_rank, args.rdzv_endpoint, args.hostfile)
    _check_size(args)
    with contextlib.ExitStack() as stack:
        suite, configs, run_dir, run = _prepare(args, cluster, stack)
        if not cluster.leader:
            return _follow(args, cluster, configs, run_dir, err)
        return _lead(args, out, err, suite, configs, run_dir, run, cluster)


def _lead(args, out, err, suite, configs, run_dir: Path, run: dict, cluster) -> int:
    with _sigterm_as_interrupt() as terminated:
        gpus = _gpus(args, configs)
        try:  # batch_size: max -> the largest batch that fits, searched before anything is measured
            configs = autobatch.apply(configs, run_dir, run, say=lambda m: err.print(escape(m), highlight=False))
        except autobatch.AutobatchError as e:
            raise UsageError(str(e)) from None
        except KeyboardInterrupt:
            err.print(f"[yellow]{'terminated (SIGTERM)' if terminated else 'interrupted'}[/] during the batch_size: max "
                      f"search: its probes are recorded; continue with: benchbench run --resume {escape(str(run_dir))}",
                      highlight=False, soft_wrap=True)
            return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
        todo = runner.pending(configs, run_dir)
        err.print(f"[bold]{escape(suite.name)}[/]: {len(configs)} configs, {len(todo)} runs to do -> {escape(str(run_dir))}"
                  + (f" on GPUs {','.join(gpus)}" if gpus and len(gpus) > 1 else ""), highlight=False)
        _warn_wont_fit(err, configs)
        busy = env.busy_warning()
        if busy:
            err.print(f"[yellow]{escape(busy)}[/]", highlight=False, soft_wrap=True)
        t0 = time.perf_counter()
        try:
            summary = _sweep_with_progress(args, configs, run_dir, run, cluster, gpus, err)
        except KeyboardInterrupt:  # a signal in the sweep's own cleanup, after its rows: they are recorded
            summary = runner.SweepSummary(0, 0, True, time.perf_counter() - t0, 0.0, {})
        with _signals_held() as held:  # the end is written whole: a signal now waits until run.json is
            results.finalize(run_dir)
            if not held:
                _record_end_noise(run_dir)
            run.update(finished_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                       interrupted=summary.interrupted, wall_s=summary.wall_s, measured_s=summary.measured_s,
                       gpu_busy_s=summary.gpu_busy_s, expected_runs=_expected(configs), gpus=gpus)
            results.write_json(run_dir / "run.json", run)
        if held:
            terminated += [s for s in held if s == signal.SIGTERM]
            summary.interrupted = True
    if (run_dir / results.ROWS).exists():
        table = tables.summary(results.load(run_dir), run.get("baseline_config_id"), smoke=bool(run.get("smoke")))
        out.print(terminal.render(table, title=escape(f"{suite.name} ({run_dir})")))
        note = results.completeness(run_dir)
        if note:
            err.print(f"[yellow]{escape(note)}[/]", highlight=False)
    _add_to_history(args, run_dir, summary, err)
    share = 100 * summary.measured_s / summary.wall_s if summary.wall_s else 0.0
    busy = f", GPUs busy {summary.gpu_busy_s:.1f} GPU-s" if summary.gpu_busy_s else ""
    err.print(f"{summary.ran} runs in {summary.wall_s:.1f} s, of which measured steps {summary.measured_s:.1f} s "
              f"({share:.0f}%){busy}; statuses: {summary.statuses}")
    err.print(escape(f"results: {run_dir}/rows.jsonl, results.parquet, results.csv, env.json"), highlight=False)
    if summary.interrupted:
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        left = results.completeness(run_dir) if (run_dir / results.ROWS).exists() else "no run recorded"
        err.print(f"[yellow]{what}[/]: finished runs are recorded; continue with: benchbench run --resume {escape(str(run_dir))}"
                  + ("" if left else " (every run is recorded: nothing is left to run)"), highlight=False, soft_wrap=True)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    return EXIT_OK


def _add_to_history(args, run_dir: Path, summary, err):
    """--history [PATH]: the finished run goes into the history (an interrupted one waits for its --resume)."""
    if args.history is None or not (run_dir / results.ROWS).exists():
        return
    if summary.interrupted:
        err.print("history: not added (the run was interrupted; --resume it with --history)", highlight=False)
        return
    from benchbench.commands import history as hist
    from benchbench.store import history

    path = history.resolve_path(args.history or None)
    try:
        what = hist.add_runs(path, [run_dir], writing=True)[str(run_dir)]
    except (history.HistoryError, UsageError) as e:
        raise UsageError(f"the run is recorded in {run_dir}, but adding it to the history failed: {e}") from None
    err.print(escape(f"history: {what} to {path}"), highlight=False, soft_wrap=True)


def _sweep_with_progress(args, configs, run_dir: Path, run: dict, cluster, gpus, err):
    """The sweep with a progress bar on a terminal; without one (CI, nohup, Slurm) a line per finished
    run naming its settings, its status and the time left."""
    axes = tables.varying_axes(_config_frame(configs)) if configs else []
    t0 = time.monotonic()

    def label(cfg) -> str:
        return ", ".join(f"{a}={getattr(cfg, a)}" for a in axes) or cfg.config_id

    def eta(done, total) -> str:
        left = (time.monotonic() - t0) / done * (total - done) if done else 0.0
        return estimate.human_duration(left)

    if not err.is_terminal:
        def line(done, total, cfg, row):
            if not args.quiet:
                err.print(escape(f"[{done}/{total}] {label(cfg)} r{row.get('repeat', '?')}: {row['status']}"
                                 + (f" ({str(row.get('reason'))[:80]})" if row.get("reason") else "")
                                 + f"; eta {eta(done, total)}"), highlight=False, soft_wrap=True)

        return runner.sweep(configs, run_dir, run, on_progress=line, prestart=not args.no_prestart, cluster=cluster,
                            gpus=gpus)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=err,
                  transient=True, disable=args.quiet) as bar:
        task = bar.add_task("starting", total=len(runner.pending(configs, run_dir)))

        def progress(done, total, cfg, row):
            bar.update(task, completed=done, total=total, description=escape(f"{label(cfg)}: {row['status']}"))

        return runner.sweep(configs, run_dir, run, on_progress=progress, prestart=not args.no_prestart,
                            cluster=cluster, gpus=gpus)


def _config_frame(configs):
    import pandas as pd

    return pd.DataFrame([{**c.flat(), "config_id": c.config_id} for c in configs])


def _expected(configs) -> int | None:
    """Runs the sweep owes: its configs x repeats (None when repeats: auto decides as it goes)."""
    if any(c.repeats == "auto" for c in configs):
        return None
    return sum(c.repeats for c in configs)


def _gpus(args, configs) -> list[str] | None:
    """--gpus as GPU ids (pool.parse_gpus); None on a machine without GPUs or for CPU-only sweeps."""
    if not any(c.device != "cpu" for c in configs) or not cuda_available():
        if args.gpus not in (None, "all", "1"):
            raise UsageError(f"--gpus {args.gpus}: this machine has no NVIDIA GPU (or the suite runs on the CPU)")
        return None
    try:
        return pool.parse_gpus(args.gpus or "1", device.gpu_count())
    except pool.PoolError as e:
        raise UsageError(str(e)) from None


def _check_size(args):
    """A sweep far larger than its time allows asks for --yes before anything is written."""
    if args.resume or not args.suite:
        return
    n = suites.raw_size(args.suite)
    if n > MAX_CONFIGS:  # not even with --yes: expanding it would exhaust memory before anything runs
        raise UsageError(f"suite {args.suite!r} expands to {n:,} configs; benchbench runs at most {MAX_CONFIGS:,} per "
                         "suite: narrow the sweep (exclude:, fewer axis values) or split it into several suites")
    if n <= CONFIRM_CONFIGS or args.yes:
        return
    raise UsageError(f"suite {args.suite!r} expands to {n:,} configs (more than {CONFIRM_CONFIGS:,}); at a few seconds "
                     f"of fixed cost each that is over {estimate.human_duration(3 * n)} before any step is measured. "
                     "Narrow the sweep (exclude:, fewer axis values), or add --yes to run it anyway")


def _check_runs(args, configs):
    """The guard counts runs (configs x repeats; repeats: auto at its max_repeats), not configs alone."""
    n = sum(c.max_repeats if c.repeats == "auto" else c.repeats for c in configs)
    if args.yes or n <= CONFIRM_CONFIGS:
        return
    raise UsageError(f"suite {args.suite!r} makes {n:,} runs ({len(configs):,} configs x their repeats; more than "
                     f"{CONFIRM_CONFIGS:,}); at a few seconds of fixed cost each that is over "
                     f"{estimate.human_duration(3 * n)} before any step is measured. Lower repeats or narrow the "
                     "sweep, or add --yes to run it anyway")


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (what Slurm and CI runners send) ends the sweep the way Ctrl-C does: running workers
    killed, finished rows kept, run.json marked interrupted, the resume command printed; exit 143."""
    terminated = []
    if threading.current_thread() is not threading.main_thread():
        yield terminated
        return

    def handler(signum, frame):
        terminated.append(signum)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM recorded, not raised, while the run's end is written; the caller acts on them after."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    old = {s: signal.signal(s, lambda signum, frame: held.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def rundir_lock(run_dir: Path):
    """One sweep writes a run directory at a time: a second `run -o SAME` or `--resume` is refused."""
    import fcntl

    try:
        f = open(run_dir / ".lock", "w")
    except OSError as e:
        raise UsageError(f"{run_dir}: cannot write there ({e.strerror or e}); choose a writable -o DIR") from None
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise UsageError(f"{run_dir} is being written by another benchbench run (its .lock is held); wait for it, "
                         "or use another -o") from None
    try:
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


def _warn_wont_fit(err, configs):
    """Name the configs the memory model predicts will not fit this GPU; they run anyway (an OOM is a row)."""
    if not any(c.device != "cpu" for c in configs) or not cuda_available():
        return
    gpu = device.gpu_memory_bytes()
    for c, need in memory_model.wont_fit(configs, gpu):
        err.print(escape(f"predicted not to fit: {c.config_id} needs ~{need / 2**30:.1f} GiB of the GPU's "
                         f"{gpu / 2**30:.1f} GiB (benchbench estimate shows why); running it anyway"),
                  style="yellow", highlight=False, soft_wrap=True)


def _follow(args, cluster: Cluster, configs, run_dir: Path, err) -> int:
    err.print(f"node {cluster.node_rank}: following node 0's sweep in {escape(str(run_dir))} (node 0 records the rows)",
              highlight=False)
    summary = runner.sweep(configs, run_dir, {}, cluster=cluster)
    err.print(f"node {cluster.node_rank}: started its ranks for {summary.ran} runs in {summary.wall_s:.1f} s")
    return EXIT_INTERRUPTED if summary.interrupted else EXIT_OK


def _record_end_noise(run_dir: Path):
    """env.json gets the machine's load and GPU clocks at the end of the run too (noise_end)."""
    try:
        data = results.read_json(run_dir / "env.json")
    except (OSError, ValueError):
        return
    data.update(noise_end={**env.noise(), "cpu_reference_s": env.cpu_reference_s()}, gpu_clocks_end=env.gpu_clocks())
    results.write_json(run_dir / "env.json", data)
