"""A comparison on the terminal: the table of `benchbench compare` (and of gate and ab), its heading,
the --by matrix, and why each verdict happened when the runs carry profiles."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from benchbench.analysis import family
from benchbench.present import markdown

STYLE = {"faster": "green", "slower": "red", "two modes": "yellow", "status changed": "magenta", "only in A": "yellow", "only in B": "yellow"}


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
