"""`benchbench run SUITE` and `benchbench run --resume RUN_DIR`: the flags become RunOptions, the run is
sweep.run.run_suite, and this module prints it: the progress, the table, the history line, the end."""

from __future__ import annotations

import time

from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from benchbench.analysis import summary as tables
from benchbench.analysis.records import add_runs
from benchbench.basics.errors import UserError
from benchbench.commands.common import console
from benchbench.plan import runtime as estimate
from benchbench.present import terminal
from benchbench.store import history, results
from benchbench.sweep.run import Run, RunListener, RunOptions, run_suite
from benchbench.sweep.rundir import against  # noqa: F401  (run --against's check, importable here too)

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 2, 130, 143


def options(args) -> RunOptions:
    return RunOptions(resume=args.resume, smoke=args.smoke, device=args.device, output=args.output,
                      results_root=args.results_root, profile=args.profile, pyspy=args.pyspy,
                      prestart=not args.no_prestart, gpus=args.gpus, yes=args.yes, configs=args.config,
                      against=getattr(args, "against", None), nnodes=args.nnodes, node_rank=args.node_rank,
                      rdzv_endpoint=args.rdzv_endpoint, hostfile=args.hostfile)


def main(args) -> int:
    out, err = console(), console(stderr=True)
    if args.history and args.history.endswith((".yaml", ".yml")) and not args.suite:  # `run --history SUITE`
        args.suite, args.history = args.history, ""
    run = run_suite(args.suite, options(args), Shown(args, out, err))
    if not run.leader:
        s = run.summary
        err.print(f"node {run.node_rank}: started its ranks for {s.ran} runs in {s.wall_s:.1f} s")
        return EXIT_INTERRUPTED if run.interrupted else EXIT_OK
    code = EXIT_TERMINATED if run.terminated else EXIT_INTERRUPTED
    what = "terminated (SIGTERM)" if run.terminated else "interrupted"
    if run.stopped_in:
        err.print(f"[yellow]{what}[/] during {run.stopped_in}: its probes are recorded; continue with: benchbench "
                  f"run --resume {escape(str(run.run_dir))}", highlight=False, soft_wrap=True)
        return code
    summary, run_dir = run.summary, run.run_dir
    share = 100 * summary.measured_s / summary.wall_s if summary.wall_s else 0.0
    busy = f", GPUs busy {summary.gpu_busy_s:.1f} GPU-s" if summary.gpu_busy_s else ""
    err.print(f"{summary.ran} runs in {summary.wall_s:.1f} s, of which measured steps {summary.measured_s:.1f} s "
              f"({share:.0f}%){busy}; statuses: {summary.statuses}")
    err.print(escape(f"results: {run_dir}/rows.jsonl, results.parquet, results.csv, env.json"), highlight=False)
    if run.interrupted:
        left = results.completeness(run_dir) if run.recorded else "no run recorded"
        err.print(f"[yellow]{what}[/]: finished runs are recorded; continue with: benchbench run --resume {escape(str(run_dir))}"
                  + ("" if left else " (every run is recorded: nothing is left to run)"), highlight=False, soft_wrap=True)
        return code
    return EXIT_OK


class Shown(RunListener):
    """The run on the terminal: a progress bar (a line per finished run without a terminal), the
    summary table at the end, then the run added to the history with --history."""

    def __init__(self, args, out, err):
        self.args, self.out, self.err = args, out, err

    def message(self, text: str):
        self.err.print(escape(text), highlight=False)

    def warning(self, text: str):
        self.err.print(escape(text), style="yellow", highlight=False, soft_wrap=True)

    def following(self, run: Run):
        self.err.print(f"node {run.node_rank}: following node 0's sweep in {escape(str(run.run_dir))} (node 0 records "
                       "the rows)", highlight=False)

    def starting(self, run: Run, todo: int):
        gpus = run.gpus
        self.err.print(f"[bold]{escape(run.suite.name)}[/]: {len(run.configs)} configs, {todo} runs to do -> "
                       f"{escape(str(run.run_dir))}" + (f" on GPUs {','.join(gpus)}" if gpus and len(gpus) > 1 else ""),
                       highlight=False)

    def sweeping(self, run: Run, todo: int):
        """A progress bar on a terminal; without one (CI, nohup, Slurm) a line per finished run naming its
        settings, its status and the time left."""
        return _progress(self.args, run.configs, todo, self.err)

    def finished(self, run: Run):
        if run.recorded:
            table = tables.summary(results.load(run.run_dir), run.record.get("baseline_config_id"),
                                   smoke=bool(run.record.get("smoke")))
            self.out.print(terminal.render(table, title=escape(f"{run.suite.name} ({run.run_dir})")))
            note = results.completeness(run.run_dir)
            if note:
                self.err.print(f"[yellow]{escape(note)}[/]", highlight=False)
        self._add_to_history(run)

    def _add_to_history(self, run: Run):
        """--history [PATH]: the finished run goes into the history (an interrupted one waits for its --resume)."""
        if self.args.history is None or not run.recorded:
            return
        if run.interrupted:
            self.err.print("history: not added (the run was interrupted; --resume it with --history)", highlight=False)
            return
        path = history.resolve_path(self.args.history or None)
        try:
            what = add_runs(path, [run.run_dir], writing=True)[str(run.run_dir)]
        except UserError as e:  # the context the user needs: the run itself is safe
            raise UserError(f"the run is recorded in {run.run_dir}, but adding it to the history failed: {e}") from None
        self.err.print(escape(f"history: {what} to {path}"), highlight=False, soft_wrap=True)


class _progress:
    """The sweep's on_progress: a rich progress bar, or a plain line per finished run."""

    def __init__(self, args, configs, todo: int, err):
        self.args, self.todo, self.err, self.bar = args, todo, err, None
        self.axes = tables.varying_axes(_config_frame(configs)) if configs else []
        self.t0 = time.monotonic()

    def label(self, cfg) -> str:
        return ", ".join(f"{a}={getattr(cfg, a)}" for a in self.axes) or cfg.config_id

    def eta(self, done, total) -> str:
        left = (time.monotonic() - self.t0) / done * (total - done) if done else 0.0
        return estimate.human_duration(left)

    def line(self, done, total, cfg, row):
        if not self.args.quiet:
            self.err.print(escape(f"[{done}/{total}] {self.label(cfg)} r{row.get('repeat', '?')}: {row['status']}"
                                  + (f" ({str(row.get('reason'))[:80]})" if row.get("reason") else "")
                                  + f"; eta {self.eta(done, total)}"), highlight=False, soft_wrap=True)

    def update(self, done, total, cfg, row):
        self.bar.update(self.task, completed=done, total=total, description=escape(f"{self.label(cfg)}: {row['status']}"))

    def __enter__(self):
        if not self.err.is_terminal:
            return self.line
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=self.err,
                            transient=True, disable=self.args.quiet)
        self.bar.__enter__()
        self.task = self.bar.add_task("starting", total=self.todo)
        return self.update

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc) if self.bar else False


def _config_frame(configs):
    import pandas as pd

    return pd.DataFrame([{**c.flat(), "config_id": c.config_id} for c in configs])
