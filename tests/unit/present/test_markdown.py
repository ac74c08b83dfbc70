"""Markdown for pull requests: number formats by unit, compare tables, pipes escaped."""

import pandas as pd

from benchbench.analysis import compare
from benchbench.present import markdown
from tests.fixtures.runs import config, frame, row


def test_formats_follow_the_unit_in_the_name():
    assert markdown.fmt(400 * 2**20, "peak_rss_bytes") == "400.0 MiB"
    assert markdown.fmt(0.1123, "step_time_s_median") == "112.30 ms"
    assert markdown.fmt(8719.4, "tokens_per_s") == "8,719"
    assert markdown.fmt(6039797760, "hardware_flops_per_step") == "6.04e+09"
    assert markdown.fmt(float("nan")) == "-" and markdown.fmt(None) == "-"


def test_compare_table_rows_and_escaping():
    a = frame(*config("c1", 0.1, attention="a|b"), row("c2", 0, status="ok", attention="sdpa"))
    b = frame(*config("c1", 0.2, attention="a|b", seed=1), row("c2", 0, status="oom", attention="sdpa"))
    md = markdown.compare_table(compare.compare(a, b), "base", "new")
    lines = md.splitlines()
    assert lines[0] == "| config | base | new | repeats | ratio [95% CI] | verdict |" and len(lines) == 4
    assert "attention=a\\|b" in lines[2] and "| 3/3 | 0.49" in lines[2] and lines[2].endswith("| slower |")
    assert "| oom |" in lines[3] and "status changed (ok -> oom)" in lines[3]


def test_every_markdown_cell_is_escaped_one_way():
    evil = "<b>x</b> | y\nz"
    assert markdown.md_cell(evil) == "&lt;b&gt;x&lt;/b&gt; \\| y z"
    assert markdown.md_cell("ok -> oom, 112 GiB > 80 GiB, A&B, &amp;") == "ok -> oom, 112 GiB > 80 GiB, A&B, &amp;amp;"
    table = markdown.pivot_table(pd.DataFrame({"attention": [evil], "x": ["1.2x"]}))
    assert table.splitlines()[2] == "| &lt;b&gt;x&lt;/b&gt; \\| y z | 1.2x |" and len(table.splitlines()) == 3
