"""`benchbench report RUN [RUN...] [--baseline FILE] [-o FILE] [--format html|markdown]`."""

from __future__ import annotations

from pathlib import Path

from benchbench.commands.common import UsageError, console, ends_on_signals
from benchbench.store import results


@ends_on_signals("report", "no report written (a report that was there is as it was); run it again")
def main(args) -> int:
    from benchbench.present import markdown, report
    from benchbench.present.report import html

    if args.baseline and not Path(args.baseline).is_file():
        raise UsageError(f"--baseline {args.baseline}: no such file")
    hist = None
    if args.history is not None:
        from benchbench.store import history

        hist = history.resolve_path(args.history or None)
        if not hist.is_file():
            raise UsageError(f"--history {hist}: no history there (benchbench history add RUN_DIR makes one)")
    rep = report.build(args.run_dirs, baseline=args.baseline, title=args.title, history=hist)
    out = Path(args.output or Path(args.run_dirs[0]) / ("report.md" if args.format == "markdown" else "report.html"))
    if args.format == "markdown":
        text = markdown.report(rep)
        if args.output == "-":
            print(text, end="")
            return 0
        results.write_text(out, text)
    else:
        if args.output == "-":
            raise UsageError("-o -: only --format markdown can go to standard output")
        out.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(out, html.render(rep, out.parent))  # beside, then renamed: a failure keeps the old file
    console(stderr=True).print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", highlight=False, soft_wrap=True)
    return 0
