"""`benchbench export RUN --format pytest-benchmark|bencher|tensorboard|mlflow|wandb [-o PATH] [--tracking-uri URI]`."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from benchbench.commands.common import UsageError, console
from benchbench.present import export
from benchbench.store import baseline


def main(args) -> int:
    rows, run, env = baseline.read_run(args.run_dir)
    if rows.empty:
        raise UsageError(f"{args.run_dir}: the run has no rows; nothing to export (run it first, or --resume it)")
    fmt = export.FORMATS[args.format]
    out = Path(args.output) if args.output else Path(args.run_dir) / fmt.default_output
    if getattr(args, "tracking_uri", None) and args.format != "mlflow":
        raise UsageError(f"--tracking-uri is for --format mlflow, not {args.format}")
    said = fmt.write(rows, run, env, out, tracking_uri=getattr(args, "tracking_uri", None))
    console(stderr=True).print(escape(said), highlight=False, soft_wrap=True)
    return 0
