"""A metric added by a package of two files, its module and its entry points (docs/plugins.md): a toy collector
writes a column, its Metric declares it, and the column flows everywhere a built-in does: merged across ranks
as declared, in the summary table, the report (HTML and markdown, a chart), a Bencher export, and judged by
compare and the gate's rules in its declared direction."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from rich.console import Console

from benchbench import collectors
from benchbench.analysis import compare
from benchbench.analysis import summary as tables
from benchbench.plugins import PluginError
from benchbench.present import markdown, report, terminal
from benchbench.present.export import bencher, common
from benchbench.present.report import html
from benchbench.spec import catalogue, metrics, rules
from benchbench.spec.config import RunConfig
from benchbench.store import results
from benchbench.sweep import ranks
from benchbench.worker.device import DeviceInfo
from tests.fixtures import runs as fx

ENTRY_POINTS = """\
    [benchbench.collectors]
    toy_cache = toycache:CacheProbe

    [benchbench.metrics]
    toy_cache_hits_pct = toycache:CACHE_HITS
    """
# Higher is better although the name has no suffix that says so, and the ranks merge to the worst rank:
# a fallback (suffix rule, rank 0's value) would get both wrong.
MODULE = """\
    from benchbench.collectors.base import Collector
    from benchbench.spec.metrics import Metric


    class CacheProbe(Collector):
        name = "toy_cache"

        def fields(self):
            return {"toy_cache_hits_pct": self.ctx.model.hits_pct}


    CACHE_HITS = Metric(higher_is_better=True, unit="%", description="cache hits in the timed window",
                        merge="min", per_rank="list", label="cache hits %", format="{:.1f}",
                        views=("table", "report", "chart"), export=("bencher",), collector="toy_cache")
    """


@pytest.fixture
def toycache(package):
    return package("toycache", ENTRY_POINTS, {"toycache": MODULE})


def rank_row(config_id: str, repeat: int, hits_pct: float, attention: str = "eager") -> dict:
    """One rank's result: the worker's columns plus what the plug-in collector measured."""
    cfg = RunConfig(collect=["toy_cache"])
    [probe] = collectors.build(cfg, collectors.Context(cfg, None, DeviceInfo("cpu", "test"),
                                                       model=SimpleNamespace(hits_pct=hits_pct)))
    return fx.row(config_id, repeat, attention=attention, step_times=fx.steps(0.1, seed=repeat),
                  model_flops_per_step=1e9, **probe.fields())


def merged_run(tmp_path, name: str, hits_pct: float):
    """Two configs of two ranks each, three repeats: rank 1's hit rate 10 points below rank 0's."""
    rows = [ranks.merge([rank_row(cid, k, hits_pct + k / 10, att), rank_row(cid, k, hits_pct - 10 + k / 10, att)], 2)
            for cid, att in (("c0", "eager"), ("c1", "sdpa")) for k in range(3)]
    return fx.write_run(tmp_path / name, rows)


def test_the_declaration_is_found_with_its_fields(toycache):
    m = catalogue.lookup("toy_cache_hits_pct")
    assert (m.name, m.merge, m.collector, m.unit) == ("toy_cache_hits_pct", "min", "toy_cache", "%")
    assert metrics.higher_is_better("toy_cache_hits_pct") and not metrics.is_deterministic("toy_cache_hits_pct")
    assert rules.parse_rule("toy_cache_hits_pct:5%").higher_is_better is True
    assert catalogue.lookup("toy_cache_hits_pct_per_rank").higher_is_better  # the merge's list keeps the direction


def test_ranks_merge_the_column_as_declared(toycache):
    merged = ranks.merge([rank_row("c0", 0, 90.0, 0.1), rank_row("c0", 0, 80.0, 0.1)], 2)
    assert merged["toy_cache_hits_pct"] == 80.0 and merged["toy_cache_hits_pct_per_rank"] == [90.0, 80.0]
    assert "toy_cache_hits_pct_rank_mean" not in merged  # per_rank="list": the list alone


def test_the_table_the_report_and_an_export_show_it(toycache, tmp_path):
    run = merged_run(tmp_path, "run", 90.0)
    df = results.load(run)
    t = tables.summary(df)
    assert t["toy_cache_hits_pct"].tolist() == pytest.approx([80.1, 80.1])  # the median of the merged repeats
    console = Console(record=True, width=250)
    console.print(terminal.render(t))
    text = console.export_text()
    assert "cache hits %" in text and "80.1" in text

    rep = report.build([run])
    page = html.render(rep, tmp_path)
    assert ">cache hits %</th>" in page and ">80.1</td>" in page
    assert "cache hits % (%) by axis" in page  # its per-axis panel
    md = markdown.report(rep)
    head = next(line for line in md.splitlines() if line.startswith("| attention"))
    assert "| cache hits % |" in head and "| 80.1 |" in md

    measures = bencher.bmf(df, {"suite": "quickstart"})
    assert {round(m["toy_cache_hits_pct"]["value"], 1) for m in measures.values()} == {80.1}
    assert all("toy_cache_hits_pct" in c.metrics for c in common.configs(df))  # mlflow, tensorboard, wandb


def test_compare_judges_it_in_its_declared_direction(toycache, tmp_path):
    a = results.load(merged_run(tmp_path, "a", 90.0))
    b = results.load(merged_run(tmp_path, "b", 60.0))
    t = compare.compare(a, b, "toy_cache_hits_pct")
    assert set(t["verdict"]) == {"slower"}, t[["config_id", "verdict", "note"]]  # fewer hits: worse
    assert set(compare.compare(b, a, "toy_cache_hits_pct")["verdict"]) == {"faster"}


@pytest.mark.parametrize("fields, says", [
    ("merge='p99'", "merge 'p99' is not one of 'rank0', 'max'"),
    ("views=('table', 'sidebar')", "views 'sidebar' is not one of 'table', 'report', 'chart', 'baseline'"),
    ("format='{:.1q}'", "format '{:.1q}' cannot format a number"),
])
def test_a_declaration_outside_the_allowed_values_is_one_clear_error(package, fields, says):
    package("badmetric", "[benchbench.metrics]\nbad_pct = badmetric:BAD\n",
            {"badmetric": f"from benchbench.spec.metrics import Metric\nBAD = Metric(higher_is_better=True, {fields})\n"})
    with pytest.raises(PluginError, match=f"plug-in metric 'bad_pct': {re.escape(says)}.* \\(entry point bad_pct"):
        catalogue.lookup("bad_pct")


def test_a_plain_object_declares_a_metric_too(package):
    package("plainmetric", "[benchbench.metrics]\nplain_pct = plainmetric\n",
            {"plainmetric": "higher_is_better = True\nmerge = 'max'\nviews = 'table'\nlabel = 'plain'\n"})
    m = catalogue.lookup("plain_pct")
    assert (m.merge, m.views, m.label, m.higher_is_better) == ("max", ("table",), "plain", True)
