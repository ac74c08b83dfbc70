"""Command line: parse, delegate to benchbench.commands, map failures to exit codes.

Exit codes: 0 ok, 1 regression (gate), 2 bad input (suite, arguments, files), 3 internal error,
4 inconclusive (gate: the run too noisy to judge), 130 interrupted by Ctrl-C and 143 by SIGTERM
(finished runs are recorded). Nothing heavy is imported before the arguments parse: --help and
--version answer at once.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback

from benchbench import __version__


def number(low: float = 0.0, low_ok: bool = False, high: float | None = None, whole: bool = False):
    """An argparse type: a finite number above `low` (at least, with low_ok), below `high`; nan/inf refused."""
    def parse(text: str):
        try:
            v = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if whole else ''}number") from None
        if v != v or v in (float("inf"), float("-inf")) or (v < low if low_ok else v <= low) or \
                (high is not None and v >= high):
            bound = f"{'at least' if low_ok else 'above'} {low:g}" + (f" and below {high:g}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number {bound}")
        return v
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchbench", description="Benchmark deep-learning training optimizations.")
    p.add_argument("--version", action="version", version=f"benchbench {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a suite (every config in its own process)")
    r.add_argument("suite", nargs="?", help="suite YAML file, e.g. suites/quickstart.yaml")
    r.add_argument("--smoke", action="store_true", help="every config at tiny scale: checks a suite on any machine")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the suite's device")
    r.add_argument("--output", "-o", help="run directory (default: results/<suite>/<UTC time>-<id>)")
    r.add_argument("--results-root", default="results", help="where default run directories go")
    r.add_argument("--resume", metavar="RUN_DIR", help="run only the configs RUN_DIR has not recorded")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.add_argument("--profile", action="store_true",
                   help="add a torch.profiler window after each timed one (trace + GPU time by category)")
    r.add_argument("--pyspy", action="store_true", help="record the workers' Python stacks with py-spy during the timed window")
    r.add_argument("--no-prestart", action="store_true",
                   help="on a GPU, do not start the next worker's imports while a config runs")
    r.add_argument("--gpus", metavar="all|N|i,j,...",
                   help="GPUs of this machine to run configs on side by side: all, a count, or ids (default 1: one "
                        "config at a time; see docs/performance.md for what side by side costs)")
    r.add_argument("--yes", action="store_true", help="run a sweep even when it is far larger than its time allows")
    r.add_argument("--config", action="append", metavar="ID", help="run only this config of the suite (repeatable)")
    r.add_argument("--history", nargs="?", const="", metavar="PATH",
                   help="add the finished run to the history (default file: $BENCHBENCH_HISTORY, else "
                        "results/history.duckdb)")
    r.add_argument("--against", metavar="RUN", help="repeats: auto: test each config against the same config in this "
                                                    "finished run, instead of against the suite's baseline config")
    m = r.add_argument_group("several machines (configs with nnodes > 1; see docs/multinode.md)")
    m.add_argument("--nnodes", type=int, help="override the suite's nnodes: machines each config's ranks span")
    m.add_argument("--node-rank", type=int, help="this machine's rank, 0 = the one that records "
                                                 "(default: $NODE_RANK or Slurm's $SLURM_NODEID)")
    m.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="torchrun's rendezvous on node 0 (ports PORT..PORT+31)")
    m.add_argument("--hostfile", help="start the ranks with DeepSpeed's launcher from this hostfile instead (node 0 only)")

    ls = sub.add_parser("list", help="what exists, with allowed values")
    ls.add_argument("what", choices=("suites", "models", "axes"))
    ls.add_argument("--format", choices=("table", "markdown"), default="table",
                    help="axes only: markdown is the settings table of docs/suites.md")

    t = sub.add_parser("table", help="print the summary table of stored runs")
    t.add_argument("run_dirs", nargs="+")

    _compare_parsers(sub)
    rp = sub.add_parser("report", help="one self-contained HTML file (or markdown tables) from stored runs")
    rp.add_argument("run_dirs", nargs="+", metavar="RUN", help="one run, or several: each later one compared with the first")
    rp.add_argument("--baseline", metavar="FILE", help="baselines/<name>.json: the gate's verdict in the header")
    rp.add_argument("--output", "-o", metavar="FILE", help="default: RUN/report.html (RUN/report.md); - : markdown to stdout")
    rp.add_argument("--format", choices=("html", "markdown"), default="html")
    rp.add_argument("--title", help="default: benchbench report: <suite>")
    rp.add_argument("--history", nargs="?", const="", metavar="PATH",
                    help="add a trend per config over commits from the history; " + HISTORY_DB)
    mb = sub.add_parser("maxbatch", help="the largest micro-batch of each config that runs without OOM")
    mb.add_argument("suite", help="suite YAML file")
    mb.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the suite's device")
    mb.add_argument("--output", "-o", help="run directory (default: results/<suite>-maxbatch/<UTC time>-<id>)")
    mb.add_argument("--results-root", default="results")
    mb.add_argument("--cap", type=number(1, True, whole=True), help=f"largest batch to try (default {1 << 16} on a GPU, 1024 on a CPU)")
    es = sub.add_parser("estimate", help="predicted peak memory of every config (nothing is run)")
    es.add_argument("suite", help="suite YAML file")
    es.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the suite's device")
    es.add_argument("--device-memory", type=number(), metavar="GiB", help="GPU memory to check against (default: GPU 0's)")
    rc = sub.add_parser("recommend", help="the config to use: ranked (ties within noise), Pareto front, why it wins")
    rc.add_argument("run_dirs", nargs="+", metavar="RUN", help="one or more runs; their rows are pooled")
    rc.add_argument("--objective", default="tokens_per_s", choices=("tokens_per_s", "tokens_per_j", "usd_per_mtoken"),
                    help="what to rank by (models without tokens: samples_per_s, samples_per_j, usd_per_msample)")
    rc.add_argument("--memory-budget", type=number(), metavar="GiB", help="rule out configs whose peak memory is above")
    rc.add_argument("--gpus", type=number(1, True, whole=True), metavar="N", help="rule out configs with more ranks (world_size) than N")
    rc.add_argument("--require-numerics", action="store_true", help="only configs whose numerics check passed")
    rc.add_argument("--price", type=number(0, True), metavar="USD",
                    help="US dollars per GPU hour (default: the suite's price_per_gpu_hour)")
    rc.add_argument("--price-kwh", type=number(0, True), metavar="USD", help="US dollars per kWh (default: the suite's price_per_kwh)")
    rc.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    _history_parsers(sub)
    _explain_parser(sub)
    return p


def _explain_parser(sub):
    """explain (benchbench/commands/explain.py)."""
    x = sub.add_parser("explain", help="why each config's step time changed between two profiled runs: kernels, "
                                       "categories, host, communication, memory; bound and roofline")
    x.add_argument("run_a", metavar="RUN_A")
    x.add_argument("run_b", metavar="RUN_B")
    x.add_argument("--config", metavar="ID", help="only this config id")
    x.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    x.add_argument("--rerun", action="store_true", help="profile the changed configs again on both sides (each at its "
                                                         "commit) into new run folders, and explain from those")
    x.add_argument("--repo", metavar="PATH", help="--rerun: the project's git repository (default: the working directory's)")


def _compare_parsers(sub):
    """compare, gate, baseline save, export (benchbench/commands/compare.py, gate.py, export.py)."""
    c = sub.add_parser("compare", help="join runs on config id: values with CIs, ratio, verdict (or --by axes)")
    c.add_argument("run_dirs", nargs="+", metavar="RUN", help="RUN_A RUN_B [RUN_C...]: each later run against RUN_A")
    c.add_argument("--by", help="AXIS[,AXIS]: a matrix of ratios (one run: the axes against each other)")
    c.add_argument("--ignore", metavar="SETTING[,SETTING]", help="match configs across runs with these settings left "
                   "out (e.g. warmup_steps: did a change of method change what is measured?)")
    c.add_argument("--metric", default="tokens_per_s", help="a row column, e.g. tokens_per_s, step_time_s, peak_rss_bytes; "
                   "several (tokens_per_s,peak_allocated_bytes): one family, Holm over every config and metric")
    c.add_argument("--level", type=number(0, high=1), default=0.05, help="significance level (default 0.05)")
    c.add_argument("--threshold", type=number(0, True), metavar="PCT", help="a change must also exceed PCT percent to be a verdict")
    c.add_argument("--between-run-sd", type=number(0, True), metavar="PCT", dest="between_run_sd",
                   help="how far two runs of a config drift apart beyond their repeats (SD, percent; e.g. from the "
                        "machine's history); default: fitted from identical GPU sweeps (0.3)")
    c.add_argument("--markdown", metavar="FILE", help="also write the tables as markdown")

    g = sub.add_parser("gate", help="check a run against a baseline: exit 0 ok, 1 regression, 2 bad input, 4 too noisy to judge")
    g.add_argument("run_dir", metavar="RUN", nargs="?")
    g.add_argument("--baseline", metavar="FILE", help="baselines/<name>.json")
    g.add_argument("--history", nargs="?", const="", metavar="PATH",
                   help="gate against the last --window runs of the run's series in the history instead; " + HISTORY_DB)
    g.add_argument("--window", type=int, default=10, metavar="N", help="--history: how many earlier runs (default 10)")
    g.add_argument("--rule", action="append", metavar="RULE",
                   help='"tokens_per_s:-5%%" (drop > 5%% regresses), "peak_rss_bytes:+3%%"; repeatable; '
                        "default: the baseline's rules")
    g.add_argument("--level", type=number(0, high=1), default=0.05, help="significance level (default 0.05)")
    g.add_argument("--markdown", metavar="FILE", help="write a pull-request comment (verdict first)")
    g.add_argument("--allow-env-change", action="store_true",
                   help="compare even if GPU model, driver major, torch or CUDA version differ")

    b = sub.add_parser("baseline", help="baseline save RUN --name NAME: write baselines/NAME.json")
    bsub = b.add_subparsers(dest="baseline_command", required=True)
    bs = bsub.add_parser("save", help="write baselines/NAME.json from a run")
    bs.add_argument("run_dir", metavar="RUN")
    bs.add_argument("--name", required=True)
    bs.add_argument("--dir", default="baselines", help="where baselines go (default baselines/)")
    bs.add_argument("--rule", action="append", metavar="RULE", help="default gate rules stored in the file")
    bs.add_argument("--note", help="free text stored in the file (e.g. where the thresholds come from)")
    bs.add_argument("--force", action="store_true", help="replace an existing baseline")

    e = sub.add_parser("export", help="write a run in another tool's format")
    e.add_argument("run_dir", metavar="RUN")
    e.add_argument("--format", required=True, choices=EXPORT_FORMATS,
                   help="tensorboard, mlflow and wandb need their extra: pip install 'benchbench[mlflow]'")
    e.add_argument("--output", "-o", metavar="PATH", help="default: RUN/<format>.json (bencher.json, ...); a directory for "
                                                          "tensorboard, mlflow's local store (RUN/mlruns) and wandb")
    e.add_argument("--tracking-uri", metavar="URI", help="mlflow: a tracking server instead of the local store RUN/mlruns")


# present/export FORMATS' names, spelled out so --help imports nothing (tests/unit/present/export checks they agree)
EXPORT_FORMATS = ("pytest-benchmark", "bencher", "tensorboard", "mlflow", "wandb")


HISTORY_DB = "the history file (default: $BENCHBENCH_HISTORY, else results/history.duckdb)"


def _history_parsers(sub):
    """history (commands/history.py) and bisect (commands/bisect.py)."""
    h = sub.add_parser("history", help="the benchmark history over commits: add, show, regressions, export, import")
    hs = h.add_subparsers(dest="history_command", required=True)

    def db(p):
        p.add_argument("--history-db", metavar="PATH",
                       help=HISTORY_DB)

    a = hs.add_parser("add", help="add finished runs (adding one twice changes nothing)")
    a.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    db(a)
    for name, text in (("show", "per config, its value with a 95%% interval at every commit"),
                       ("regressions", "every change point, newest first: exit 0 none, 1 regressions, 2 bad input")):
        p = hs.add_parser(name, help=text)
        db(p)
        p.add_argument("--suite", help="only runs of this suite")
        p.add_argument("--config", action="append", metavar="ID", help="only this config id (repeatable)")
        p.add_argument("--where", action="append", metavar="KEY=VALUE", help="only configs with this setting (repeatable)")
        p.add_argument("--branch", help="only runs made on this branch")
        p.add_argument("--metric", help="default: tokens_per_s (samples_per_s where no tokens were counted)")
        p.add_argument("--format", choices=("table", "csv", "markdown"), default="table")
        if name == "regressions":
            p.add_argument("--since", metavar="REV", help="only change points after this commit")
            p.add_argument("--repo", metavar="PATH", help="where --since is resolved when the history lacks it (default .)")
    e = hs.add_parser("export", help="write the history as parquet files into DIR (for a shared folder)")
    e.add_argument("directory", metavar="DIR")
    db(e)
    i = hs.add_parser("import", help="add the runs of every export in DIR that the history lacks")
    i.add_argument("directory", metavar="DIR")
    db(i)

    b = sub.add_parser("bisect", help="find the commit that changed a config's measurement (git worktrees; the "
                                      "checkout is not touched)")
    b.add_argument("suite", help="suite YAML file (the same file is used at every commit)")
    b.add_argument("--config", required=True, metavar="ID", help="the config id to measure")
    b.add_argument("--good", required=True, metavar="REV", help="a commit measured as before the change")
    b.add_argument("--bad", required=True, metavar="REV", help="a later commit measured as after it")
    b.add_argument("--repo", metavar="PATH", help="the project's git repository (default: the working directory's)")
    b.add_argument("--setup", metavar="CMD", help="a shell command run in each commit's worktree first (e.g. a build)")
    b.add_argument("--metric", help="default: tokens_per_s (samples_per_s where no tokens are counted)")
    b.add_argument("--smoke", action="store_true", help="every probe at tiny scale")
    b.add_argument("--output", "-o", metavar="DIR", help="where the probes' run directories go "
                                                         "(default: results/bisect/<UTC time>-<id>)")
    b.add_argument("--history-db", metavar="PATH",
                   help="the history the probes go into; " + HISTORY_DB)
    ab = sub.add_parser("ab", help="A's and B's repeats alternately on this machine (two revisions or two suites), "
                                   "then compare them: the way to compare on a noisy machine")
    ab.add_argument("suites", nargs="+", metavar="SUITE", help="SUITE (with --a-rev/--b-rev) or SUITE_A SUITE_B")
    ab.add_argument("--a-rev", metavar="REV", help="A: this commit of the repository (a temporary worktree)")
    ab.add_argument("--b-rev", metavar="REV", help="B: this commit of the repository")
    ab.add_argument("--repo", metavar="PATH", help="the project's git repository (default: the working directory's)")
    ab.add_argument("--config", action="append", metavar="ID", help="only this config id (repeatable)")
    ab.add_argument("--repeats", type=number(0, True, whole=True), metavar="N", help="repeats a side (default: the suite's; at least 3)")
    ab.add_argument("--metric", help="the compared row column (default: tokens_per_s, samples_per_s where no tokens are counted)")
    ab.add_argument("--smoke", action="store_true", help="every config at tiny scale")
    ab.add_argument("--output", "-o", metavar="DIR", help="DIR/a and DIR/b (default: results/ab/<UTC time>-<id>)")


# command -> (module in benchbench.commands, function): only the command's own module is imported
HANDLERS = {"run": ("run", "main"), "list": ("listing", "main_list"), "table": ("listing", "main_table"),
            "compare": ("compare", "main"), "gate": ("gate", "main_gate"), "baseline": ("gate", "main_baseline"),
            "export": ("export", "main"), "report": ("report", "main"), "maxbatch": ("maxbatch", "main"),
            "estimate": ("estimate", "main"), "recommend": ("recommend", "main"), "history": ("history", "main"),
            "bisect": ("bisect", "main"), "explain": ("explain", "main"), "ab": ("ab", "main")}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from rich.console import Console
    from rich.markup import escape

    from benchbench.basics.errors import Terminated, UserError

    err = Console(stderr=True)

    def say(label: str, msg: str):
        # Messages quote the user's input (YAML, paths): never read as markup; one line each, never folded.
        err.print(f"[red]{label}[/]: {escape(msg)}", highlight=False, soft_wrap=True)

    def internal(e: Exception) -> int:
        if os.environ.get("BENCHBENCH_DEBUG"):
            traceback.print_exception(e)
        log = _traceback_log(e)
        where = f"its traceback is in {log}" if log else "BENCHBENCH_DEBUG=1 shows the traceback"
        say("internal error", f"{type(e).__name__}: {e} ({where}; a bug in benchbench: please report it)")
        return 3

    try:
        import importlib

        module, func = HANDLERS[args.command]
        return getattr(importlib.import_module(f"benchbench.commands.{module}"), func)(args)
    except UserError as e:  # the one family a user meets (basics/errors.py): one line per problem
        for problem in e.problems:
            say("error", problem)
        return 2
    except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as e:  # a place the user named: theirs to fix
        say("error", f"{e.filename or e}: cannot write or read there ({e.strerror}); choose another place (e.g. -o) "
                     "or fix its permissions")
        return 2
    except OSError as e:
        if e.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            say("error", f"{e.filename or 'a file'}: cannot write it ({e.strerror}); free some space or choose another "
                         "place (e.g. -o); a run keeps its recorded rows: benchbench run --resume RUN_DIR continues it")
            return 2
        return internal(e)
    except Terminated:
        err.print("terminated (SIGTERM)")
        return 143
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as e:  # a bug in benchbench, not the user's input
        return internal(e)


def _traceback_log(e: Exception) -> str | None:
    """The traceback of an internal error in a file of its own (the bug report's attachment); its path,
    or None where no file can be written (the message then says how to see it)."""
    import tempfile
    import time

    try:
        fd, path = tempfile.mkstemp(prefix=f"benchbench-internal-error-{time.strftime('%Y%m%dT%H%M%S')}-",
                                    suffix=".log")
        with os.fdopen(fd, "w") as f:
            f.write(f"benchbench {__version__}: {' '.join(sys.argv)}\n")
            traceback.print_exception(e, file=f)
        return path
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
