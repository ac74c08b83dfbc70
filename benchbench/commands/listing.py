"""`benchbench list suites|models|axes` and `benchbench table RUN_DIR...`."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from benchbench.commands.common import console
from benchbench.present import axes


def suite_dirs() -> list[Path]:
    """./suites, then the suites/ of the checkout benchbench runs from (editable installs)."""
    here = Path.cwd() / "suites"
    repo = Path(__file__).resolve().parents[2] / "suites"
    return [d for d in dict.fromkeys([here, repo]) if d.is_dir()]


def list_suites() -> Table:
    from benchbench.spec import suite as suites  # validating suites imports the model registry (torch)

    t = Table(title="suites")
    for col in ("file", "name", "configs", "description"):
        t.add_column(col)
    for d in suite_dirs():
        for path in sorted(d.glob("*.yaml")):
            try:
                s = suites.load(path)
                n = str(len(s.expand()))
                t.add_row(escape(str(path)), s.name, n, escape(s.description.strip().splitlines()[0]) if s.description.strip() else "")
            except suites.SuiteError as e:
                t.add_row(escape(str(path)), "-", "-", f"[red]invalid[/]: {escape(e.problems[0])}")
    return t


def list_models() -> Table:
    from benchbench import models

    t = Table(title="models (model: {name, size, <shape arguments>})")
    for col in ("name", "sizes", "shape arguments"):
        t.add_column(col)
    for name, mod in models.registered().items():  # the reference models, then the plug-ins'
        t.add_row(name, ", ".join(mod.SIZES), ", ".join(mod.ARGS))
    for spec in models.ADAPTER_SPECS:
        t.add_row(spec, "default", "- (the library's own config; needs the library installed)")
    t.add_row("py:<module>", "the module's SIZES", "the module's ARGS")
    return t


def list_axes() -> Table:
    t = Table(title="axes and settings (sweep: / defaults:)")
    for col in ("name", "allowed values", "default", "meaning"):
        t.add_column(col)
    for row in axes.rows():
        t.add_row(*(escape(x) for x in row))
    return t


def main_list(args) -> int:
    if args.what == "axes" and getattr(args, "format", "table") == "markdown":
        print(axes.markdown())
        return 0
    what = {"suites": list_suites, "models": list_models, "axes": list_axes}[args.what]
    console().print(what())
    return 0


def main_table(args) -> int:
    from benchbench.analysis import bound
    from benchbench.analysis import summary as tables
    from benchbench.basics.device import peak_gb_per_s
    from benchbench.present import terminal
    from benchbench.store import results

    for d in args.run_dirs:
        run = results.read_json(Path(d) / "run.json") if (Path(d) / "run.json").exists() else {}
        df = results.load(d)
        table = bound.with_bound(tables.summary(df, run.get("baseline_config_id"), smoke=bool(run.get("smoke"))), df,
                                 peak_gb_per_s)
        console().print(terminal.render(table, title=escape(f"{run.get('suite', '')} ({d})")))
        note = results.completeness(d)
        if note:
            console(stderr=True).print(f"[yellow]{escape(note)}[/]", highlight=False)
    return 0
