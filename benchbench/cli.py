"""Command line: parse, delegate to benchbench.commands, map failures to exit codes.

Exit codes: 0 ok, 1 regression (gate), 2 bad input (suite, arguments, files), 3 internal error,
130 interrupted (finished runs are recorded).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from rich.console import Console
from rich.markup import escape

from benchbench.cluster import ClusterError
from benchbench.commands.run import UsageError
from benchbench.results import StoreError
from benchbench.suite import SuiteError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchbench", description="Benchmark deep-learning training optimizations.")
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
    m = r.add_argument_group("several machines (configs with nnodes > 1; see docs/multinode.md)")
    m.add_argument("--nnodes", type=int, help="override the suite's nnodes: machines each config's ranks span")
    m.add_argument("--node-rank", type=int, help="this machine's rank, 0 = the one that records "
                                                 "(default: $NODE_RANK or Slurm's $SLURM_NODEID)")
    m.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="torchrun's rendezvous on node 0 (ports PORT..PORT+31)")
    m.add_argument("--hostfile", help="start the ranks with DeepSpeed's launcher from this hostfile instead (node 0 only)")

    ls = sub.add_parser("list", help="what exists, with allowed values")
    ls.add_argument("what", choices=("suites", "models", "axes"))

    t = sub.add_parser("table", help="print the summary table of stored runs")
    t.add_argument("run_dirs", nargs="+")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    err = Console(stderr=True)

    def say(label: str, msg: str):
        # Messages quote the user's input (YAML, paths): never read as markup; one line each, never folded.
        err.print(f"[red]{label}[/]: {escape(msg)}", highlight=False, soft_wrap=True)

    try:
        from benchbench.commands import listing, run

        handlers = {"run": run.main, "list": listing.main_list, "table": listing.main_table}
        return handlers[args.command](args)
    except SuiteError as e:
        for problem in e.problems:
            say("error", problem)
        return 2
    except (UsageError, StoreError, ClusterError) as e:
        say("error", str(e))
        return 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as e:  # a bug in benchbench, not the user's input
        if os.environ.get("BENCHBENCH_DEBUG"):
            traceback.print_exc()
        say("internal error", f"{type(e).__name__}: {e} (BENCHBENCH_DEBUG=1 shows the traceback)")
        return 3


if __name__ == "__main__":
    sys.exit(main())
