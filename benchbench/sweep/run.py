"""A suite run as a library call: `run_suite(SUITE, RunOptions(...)) -> Run`, what `benchbench run` does
without its printing.

The run directory is made (rundir.py) and locked for the whole call; batch_size: max is searched before
anything is measured; the sweep runs (runner.py) with SIGTERM unwinding like Ctrl-C (signals.py); the
end (results.parquet/csv, run.json) is written whole whatever signal arrives meanwhile. An interrupted
run returns (interrupted=True) with its finished rows recorded, never raises. A RunListener hears the
run as it goes: the command line's progress bar and table are one listener.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from benchbench.basics.errors import UserError
from benchbench.plan import memory_model
from benchbench.spec.suite import Suite
from benchbench.store import results
from benchbench.basics import signals
from benchbench.sweep import autobatch, env, pool, rundir, runner
from benchbench.sweep.cluster import Cluster
from benchbench.worker import device


@dataclass
class RunOptions:
    """What `benchbench run` takes besides the suite (its flags, named alike)."""
    resume: str | Path | None = None      # continue this run directory (no suite then)
    smoke: bool = False
    device: str | None = None             # auto | cpu | cuda: overrides the suite's
    output: str | Path | None = None      # the run directory (default: RESULTS_ROOT/<suite>/<UTC time>-<id>)
    results_root: str | Path = "results"
    profile: bool = False
    pyspy: bool = False
    prestart: bool = True
    gpus: str | None = None               # all | N | i,j,...
    yes: bool = False                     # run a sweep far larger than its time allows
    configs: list[str] | None = None      # only these config ids
    against: str | Path | None = None     # repeats: auto against this finished run
    nnodes: int | None = None
    node_rank: int | None = None
    rdzv_endpoint: str | None = None
    hostfile: str | None = None
    command: list[str] | None = None      # recorded in run.json (default: sys.argv)


@dataclass
class Run:
    """A run that ended: where it is recorded and how it ended."""
    suite: Suite
    configs: list
    run_dir: Path
    record: dict                          # run.json
    leader: bool = True                   # False: a follower machine of a multi-machine run (records nothing)
    node_rank: int = 0
    gpus: list[str] | None = None
    summary: runner.SweepSummary | None = None
    interrupted: bool = False             # Ctrl-C or SIGTERM: finished rows are recorded, --resume continues
    terminated: bool = False              # ... and it was SIGTERM
    stopped_in: str | None = None         # where an interrupt stopped it before the sweep began

    @property
    def recorded(self) -> bool:
        return (self.run_dir / results.ROWS).exists()

    @property
    def rows(self):
        """The run's rows (a DataFrame; empty when none was recorded)."""
        import pandas as pd

        return results.load(self.run_dir) if self.recorded else pd.DataFrame()


class RunListener:
    """What a run tells as it goes. Each method does nothing here: a caller overrides what it shows."""

    def message(self, text: str):
        """A line of the batch_size: max search."""

    def warning(self, text: str):
        """A config predicted not to fit, a busy machine: the run goes on."""

    def starting(self, run: Run, todo: int):
        """The sweep is about to run `todo` (config, repeat) runs."""

    def sweeping(self, run: Run, todo: int):
        """A context manager around the sweep, yielding on_progress(done, total, cfg, row) or None."""
        return contextlib.nullcontext(None)

    def finished(self, run: Run):
        """The run's end is written; its directory is still locked (e.g. to add it to a history)."""

    def following(self, run: Run):
        """A follower machine is about to run its ranks of node 0's sweep."""


def run_suite(suite: str | Path | None, options: RunOptions | None = None,
              listener: RunListener | None = None) -> Run:
    """Run SUITE (a YAML file), or continue options.resume; UserError for input that cannot run, raised
    before anything is written."""
    o, listener = options or RunOptions(), listener or RunListener()
    cluster = Cluster.from_settings(o.node_rank, o.rdzv_endpoint, o.hostfile)
    if not o.resume and suite:
        rundir.check_size(suite, o.yes)
    with contextlib.ExitStack() as stack:
        found = rundir.resume(suite, o, stack) if o.resume else rundir.start(suite, o, cluster.leader, stack)
        s, configs, run_dir, record = found
        run = Run(s, configs, Path(run_dir), record, leader=cluster.leader, node_rank=cluster.node_rank)
        if not cluster.leader:
            listener.following(run)
            run.summary = runner.sweep(configs, run.run_dir, {}, cluster=cluster)
            run.interrupted = run.summary.interrupted
            return run
        _lead(run, o, cluster, listener)
        return run


def _lead(run: Run, o: RunOptions, cluster: Cluster, listener: RunListener):
    with signals.sigterm_as_interrupt() as terminated:
        run.gpus = _gpus(o.gpus, run.configs)
        try:  # batch_size: max -> the largest batch that fits, searched before anything is measured
            run.configs = autobatch.apply(run.configs, run.run_dir, run.record, say=listener.message)
        except KeyboardInterrupt:  # its probes are recorded; nothing else is written
            run.interrupted, run.terminated, run.stopped_in = True, bool(terminated), "the batch_size: max search"
            return
        todo = runner.pending(run.configs, run.run_dir)
        listener.starting(run, len(todo))
        for line in _wont_fit(run.configs):
            listener.warning(line)
        busy = env.busy_warning()
        if busy:
            listener.warning(busy)
        t0 = time.perf_counter()
        try:
            with listener.sweeping(run, len(todo)) as on_progress:
                summary = runner.sweep(run.configs, run.run_dir, run.record, on_progress=on_progress,
                                       prestart=o.prestart, cluster=cluster, gpus=run.gpus)
        except KeyboardInterrupt:  # a signal in the sweep's own cleanup, after its rows: they are recorded
            summary = runner.SweepSummary(0, 0, True, time.perf_counter() - t0, 0.0, {})
        with signals.held(deliver=False) as held:  # the end is written whole: a signal now waits until run.json is
            results.finalize(run.run_dir)
            if not held:
                _record_end_noise(run.run_dir)
            run.record.update(finished_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              interrupted=summary.interrupted, wall_s=summary.wall_s, measured_s=summary.measured_s,
                              gpu_busy_s=summary.gpu_busy_s, expected_runs=_expected(run.configs), gpus=run.gpus)
            results.write_json(run.run_dir / "run.json", run.record)
        if held:
            terminated += [s for s in held if s == signal.SIGTERM]
            summary.interrupted = True
    run.summary, run.interrupted, run.terminated = summary, summary.interrupted, bool(terminated)
    listener.finished(run)


def _expected(configs) -> int | None:
    """Runs the sweep owes: its configs x repeats (None when repeats: auto decides as it goes)."""
    if any(c.repeats == "auto" for c in configs):
        return None
    return sum(c.repeats for c in configs)


def _gpus(given: str | None, configs) -> list[str] | None:
    """--gpus as GPU ids (pool.parse_gpus); None on a machine without GPUs or for CPU-only sweeps."""
    if not any(c.device != "cpu" for c in configs) or not device.cuda_available():
        if given not in (None, "all", "1"):
            raise UserError(f"--gpus {given}: this machine has no NVIDIA GPU (or the suite runs on the CPU)")
        return None
    return pool.parse_gpus(given or "1", device.gpu_count())


def _wont_fit(configs) -> list[str]:
    """The configs the memory model predicts will not fit this GPU; they run anyway (an OOM is a row)."""
    if not any(c.device != "cpu" for c in configs) or not device.cuda_available():
        return []
    gpu = device.gpu_memory_bytes()
    return [f"predicted not to fit: {c.config_id} needs ~{need / 2**30:.1f} GiB of the GPU's {gpu / 2**30:.1f} GiB "
            "(benchbench estimate shows why); running it anyway" for c, need in memory_model.wont_fit(configs, gpu)]


def _record_end_noise(run_dir: Path):
    """env.json gets the machine's load and GPU clocks at the end of the run too (noise_end)."""
    try:
        data = results.read_json(run_dir / "env.json")
    except (OSError, ValueError):
        return
    data.update(noise_end={**env.noise(), "cpu_reference_s": env.cpu_reference_s()}, gpu_clocks_end=env.gpu_clocks())
    results.write_json(run_dir / "env.json", data)

