"""`benchbench compare RUN_A RUN_B... [--by AXES] [--metric M] [--ignore SETTINGS] [--markdown FILE]`.

Two or more runs: every later run against the first, one table each (or a --by matrix). One run
with --by: the axes against each other inside the run (e.g. a precision x attention speedup matrix).
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from benchbench.analysis import compare, environment, family, matching, pivot
from benchbench.analysis import summary as tables
from benchbench.commands.common import UsageError, console
from benchbench.present import markdown
from benchbench.present.compare import explain_lines, heading, render, render_pivot, show
from benchbench.store import results


def _run(run_dir) -> dict:
    return _env(run_dir, "run.json")


def _env(run_dir, name: str = "env.json") -> dict:
    """The run's env.json (or run.json), {} when missing or unreadable (rows alone still compare)."""
    try:
        data = results.read_json(Path(run_dir) / name)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def main(args) -> int:
    by = [a.strip() for a in args.by.split(",") if a.strip()] if args.by else []
    if len(args.run_dirs) == 1 and not by:
        raise UsageError("compare needs two runs (RUN_A RUN_B), or one run with --by AXIS[,AXIS]")
    frames = [results.load(d) for d in args.run_dirs]
    for d, f in zip(args.run_dirs, frames):
        if f.empty:
            raise UsageError(f"{d}: the run has no rows")
    ignore = [s.strip() for s in (args.ignore or "").split(",") if s.strip()]
    if ignore and len(frames) == 1:
        raise UsageError("--ignore matches the configs of two or more runs; give RUN_A RUN_B")
    frames = matching.rekey(frames, [str(d) for d in args.run_dirs], ignore)
    out = console()
    md = []
    smoke = [d for d, f in zip(args.run_dirs, frames) if tables.is_smoke(f) or _run(d).get("smoke")]
    if smoke:  # tiny scale: the ratios below are no speedups
        line = (f"SMOKE: {', '.join(map(str, smoke))} ran at tiny scale (--smoke); its ratios are not speedups and "
                "measure nothing about the real configs")
        out.print(escape(line), style="yellow", highlight=False, soft_wrap=True)
        md += [f"**{line}**", ""]
    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    if len(metrics) != 1 and (by or len(frames) == 1):
        raise UsageError(f"--metric {args.metric}: --by takes one metric; several (a,b) compare two or more runs")
    if len(frames) == 1:
        run_json = Path(args.run_dirs[0]) / "run.json"
        ref = results.read_json(run_json).get("baseline_config_id") if run_json.exists() else None
        p = pivot.single_run(frames[0], by, metrics[0], ref, level=args.level)
        ref_text = ", ".join(f"{k}={v}" for k, v in p.attrs["reference"].items())
        title = f"{metrics[0]} relative to {ref_text} ({args.run_dirs[0]})"
        show(out, title, render_pivot(p))
        md += [f"**{title}**", "", markdown.pivot_table(p), ""]
    drift = getattr(args, "between_run_sd", None)
    judged = [(d, f, m, compare.compare(frames[0], f, m, level=args.level,
                                        threshold=args.threshold / 100 if args.threshold is not None else None,
                                        between_run_sd=drift / 100 if drift is not None else None))
              for d, f in zip(args.run_dirs[1:], frames[1:]) for m in metrics]
    if len(judged) > 1:  # every run and metric is one family: the chance of any false verdict stays at the level
        family.adjust([t for *_, t in judged], args.level)
    for d, f, metric, t in judged:
        a_name, b_name = args.run_dirs[0], d
        if by:
            p = pivot.two_runs(t, frames[0], f, by)
            title = f"{metric}: {b_name} / {a_name}"
            show(out, title, render_pivot(p))
            md += [f"**{title}**", "", markdown.pivot_table(p), ""]
        else:
            show(out, heading(t, a_name, b_name), render(t, a_name, b_name))
            md += [f"**{metric}: `{b_name}` vs `{a_name}`**", "", markdown.compare_table(t, "A", "B"), ""]
        for line in explain_lines(frames[0], f, t, args.run_dirs[0], d) if metric == metrics[0] else []:
            out.print(escape(line), highlight=False, soft_wrap=True)
            md.append(f"- {line}")
        counts = t["verdict"].value_counts().to_dict()
        out.print(", ".join(f"{k}: {v}" for k, v in counts.items()))
        diffs = environment.differences(frames[0], _env(args.run_dirs[0]), f, _env(d)) if metric == metrics[0] else []
        for line in diffs:  # beside the verdict: what else changed the numbers
            out.print(escape(f"environment differs: {line}"), style="yellow", highlight=False, soft_wrap=True)
        md += [f"- environment differs: {x.replace('<', '&lt;')}" for x in diffs] + ([""] if diffs else [])
    if args.markdown:
        results.write_text(args.markdown, "\n".join(md))
    return 0
