"""`benchbench run SUITE` and `benchbench run --resume RUN_DIR`."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
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
from benchbench.sweep import env, runner
from benchbench.sweep.cluster import Cluster
from benchbench.worker import device
from benchbench.worker.device import cuda_available

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130


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


def _prepare(args, cluster: Cluster) -> tuple[suites.Suite, list, Path, dict]:
    if args.resume:
        given = [flag for flag, on in (("SUITE", args.suite), ("--smoke", args.smoke), ("--device", args.device),
                                       ("--output", args.output), ("--profile", args.profile), ("--pyspy", args.pyspy),
                                       ("--nnodes", args.nnodes)) if on]
        if given:
            raise UsageError(f"--resume continues a run with the suite and options it started with; drop {', '.join(given)}")
        run_dir = Path(args.resume)
        if not (run_dir / "run.json").exists() or not (run_dir / "suite.yaml").exists():
            raise UsageError(f"{run_dir}: not a benchbench run directory (needs run.json and suite.yaml)")
        run = results.read_json(run_dir / "run.json")
        suite = suites.load(run_dir / "suite.yaml")
        configs = suite.expand(smoke=run["smoke"], overrides=run["overrides"])
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
    configs = suite.expand(smoke=args.smoke, overrides=overrides)
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
    run_dir = new_run_dir(suite.name, args.output, args.results_root)
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
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
    }
    results.write_json(run_dir / "run.json", run)
    results.write_json(run_dir / "env.json", env.capture())
    return suite, configs, run_dir, run


def main(args) -> int:
    out, err = console(), console(stderr=True)
    cluster = Cluster.from_settings(args.node_rank, args.rdzv_endpoint, args.hostfile)
    suite, configs, run_dir, run = _prepare(args, cluster)
    if not cluster.leader:
        return _follow(args, cluster, configs, run_dir, err)
    todo = runner.pending(configs, run_dir)
    err.print(f"[bold]{escape(suite.name)}[/]: {len(configs)} configs, {len(todo)} runs to do -> {escape(str(run_dir))}",
              highlight=False)
    _warn_wont_fit(err, configs)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=err,
                  transient=True, disable=args.quiet) as bar:
        task = bar.add_task("starting", total=len(todo))

        def progress(done, total, cfg, row):
            bar.update(task, completed=done, description=f"{cfg.config_id} {row['status']}")

        summary = runner.sweep(configs, run_dir, run, on_progress=progress, prestart=not args.no_prestart, cluster=cluster)
    results.finalize(run_dir)
    _record_end_noise(run_dir)
    run.update(finished_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               interrupted=summary.interrupted, wall_s=summary.wall_s, measured_s=summary.measured_s)
    results.write_json(run_dir / "run.json", run)
    if (run_dir / results.ROWS).exists():
        table = tables.summary(results.load(run_dir), run.get("baseline_config_id"))
        out.print(terminal.render(table, title=escape(f"{suite.name} ({run_dir})")))
    share = 100 * summary.measured_s / summary.wall_s if summary.wall_s else 0.0
    err.print(f"{summary.ran} runs in {summary.wall_s:.1f} s, of which measured steps {summary.measured_s:.1f} s "
              f"({share:.0f}%); statuses: {summary.statuses}")
    err.print(escape(f"results: {run_dir}/rows.jsonl, results.parquet, results.csv, env.json"), highlight=False)
    if summary.interrupted:
        err.print(f"[yellow]interrupted[/]: finished runs are recorded; continue with: benchbench run --resume {escape(str(run_dir))}",
                  highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    return EXIT_OK


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
    data.update(noise_end=env.noise(), gpu_clocks_end=env.gpu_clocks())
    results.write_json(run_dir / "env.json", data)
