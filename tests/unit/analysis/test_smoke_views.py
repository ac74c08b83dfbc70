"""Smoke runs look like smoke runs: rows marked, no speedups or scaling efficiencies in table, report and
markdown, and a clear mark in each."""

from rich.console import Console

from benchbench.analysis import summary as tables
from benchbench.present import markdown, report, terminal
from benchbench.present.report import html
from tests.fixtures import runs


def smoke_rows():
    # two configs one repeat each, the second "13x faster" at tiny scale, as a smoke run can show
    return [runs.row("a", 0, step_times=[0.1] * 3, smoke=True, world_size=1),
            runs.row("b", 0, step_times=[0.0075] * 3, attention="sdpa", smoke=True, world_size=2)]


def test_the_table_of_a_smoke_run_has_no_speedups_and_says_smoke():
    df = runs.frame(*smoke_rows())
    t = tables.summary(df)
    assert t.attrs["smoke"] and t["speedup"].isna().all() and t["scaling_efficiency"].isna().all()
    console = Console(width=240, record=True)
    console.print(terminal.render(t, "quickstart"))
    text = console.export_text()
    assert "SMOKE" in text and "13.33x" not in text
    real = df.drop(columns="smoke")
    assert tables.summary(real)["speedup"].iloc[1] > 13  # the same rows, not smoke: a speedup
    assert tables.summary(real, smoke=True)["speedup"].isna().all()       # run.json's smoke: true is enough


def test_the_report_of_a_smoke_run_marks_it_and_shows_no_speedup(tmp_path):
    d = runs.write_run(tmp_path / "s", smoke_rows(), smoke=True)
    rep = report.build([d])
    page = html.render(rep, tmp_path)
    assert "<b>Smoke run</b>" in page and "13.33" not in page
    assert not any("x)" in v for _, v, _ in rep.highlights)
    assert "smoke run: tiny scale" in markdown.report(rep)


def test_compare_of_a_smoke_run_says_smoke(tmp_path, capsys):
    from benchbench import cli

    a = runs.write_run(tmp_path / "a", runs.config("c", 0.1))
    b = runs.write_run(tmp_path / "b", [runs.row("c", 0, step_times=[0.01] * 3, smoke=True)], smoke=True)
    assert cli.main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "SMOKE" in out and "not speedups" in out and "faster" not in out
