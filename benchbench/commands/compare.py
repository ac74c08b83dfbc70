"""`benchbench compare RUN_A RUN_B... [--by AXES] [--metric M] [--markdown FILE]`.

Two or more runs: every later run against the first, one table each (or a --by matrix). One run
with --by: the axes against each other inside the run (e.g. a precision x attention speedup matrix).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from benchbench.analysis import compare, environment, family, pivot
from benchbench.analysis import summary as tables
from benchbench.commands.common import UsageError, console
from benchbench.present import markdown
from benchbench.store import results

STYLE = {"faster": "green", "slower": "red", "two modes": "yellow", "status changed": "magenta", "only in A": "yellow", "only in B": "yellow"}


@contextmanager
def usage_errors():
    """Library input errors become UsageError: one line, exit 2."""
    try:
        yield
    except (compare.CompareError, pivot.PivotError) as e:
        raise UsageError(str(e)) from None


def heading(t, a_name: str, b_name: str) -> str:
    thr = t.attrs.get("threshold")
    fam = family.level_text(t.attrs.get("family", 0), t.attrs.get("level", 0.05))
    return (f"{t.attrs.get('metric', '')}: {b_name} vs {a_name} (median over repeats [95% CI]; repeats: ok repeats "
            f"of each side; a verdict needs 3 on each side, a p-value adjusted over the family ({fam}) and a change "
            "above the " + (f"threshold {thr:.0%})" if thr is not None else "1% floor)"))


def show(out, title: str, table: Table):
    """The title on a line of its own (never folded into the table's width), then the table."""
    out.print(escape(title), highlight=False, soft_wrap=True)
    out.print(table)


def render(t, a_name: str, b_name: str) -> Table:
    metric = t.attrs.get("metric", "")
    table = Table()
    for col in ("config", a_name, b_name, "repeats", "ratio [95% CI]", "verdict"):
        table.add_column(escape(col), justify="left" if col in ("config", "verdict") else "right")
    for _, r in t.iterrows():
        style = STYLE.get(r["verdict"])
        verdict = escape(r["verdict"] + (f" ({r['note']})" if r["note"] else ""))
        table.add_row(escape(r["label"]), escape(markdown.cell(r, "a", metric)), escape(markdown.cell(r, "b", metric)),
                      markdown.repeats_text(r), markdown.ratio_text(r), f"[{style}]{verdict}[/]" if style else verdict)
    return table


def render_pivot(p) -> Table:
    table = Table()
    for c in p.columns:
        table.add_column(escape(str(c)))
    for row in p.itertuples(index=False):
        table.add_row(*(escape(str(v)) for v in row))
    return table


def explain_lines(a, b, t, run_a, run_b) -> list[str]:
    """Why, one line per config with a verdict when both runs carry profiles (benchbench explain: the whole story)."""
    from benchbench.analysis import explain

    why = explain.leads(a, b, t, run_a, run_b)
    return [f"why {t.set_index('config_id').at[cid, 'label']}: {line}" for cid, line in why.items()]
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
    with usage_errors():
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
