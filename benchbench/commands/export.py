"""`benchbench export RUN --format pytest-benchmark [-o FILE]`."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape

from benchbench.commands.common import UsageError, console
from benchbench.present import export
from benchbench.store import baseline


def main(args) -> int:
    rows, run, env = baseline.read_run(args.run_dir)
    try:
        data = export.FORMATS[args.format](rows, run, env)
    except export.ExportError as e:
        raise UsageError(str(e)) from None
    path = Path(args.output) if args.output else Path(args.run_dir) / f"{args.format}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    console(stderr=True).print(escape(f"{args.format}: {len(data['benchmarks'])} benchmarks -> {path}"),
                               highlight=False, soft_wrap=True)
    return 0
