"""present/history.py: the trend and change-point tables as markdown and CSV."""

import io

import pandas as pd
from rich.console import Console

from benchbench.present import history as view

CHANGES = pd.DataFrame([{"commit_after": "b" * 40, "commit_before": "a" * 40, "config_id": "c1", "label": "x|y",
                         "metric": "step_time_s", "before": 0.02, "after": 0.021, "change": 0.05, "ratio_ci_low": 1.04,
                         "ratio_ci_high": 1.06, "floor": 0.01, "verdict": "regression", "machine": "m"}])


def test_change_points_as_markdown_and_csv():
    md = view.markdown(view.CHANGE_HEAD, view.change_rows(CHANGES))
    assert md.splitlines()[2] == ("| bbbbbbbbbbbb | aaaaaaaaaaaa | c1 | x\\|y | step_time_s | 20.00 ms | 21.00 ms | "
                                  "+5.0% [+4.0%, +6.0%] | 1.0% | regression |")
    buf = io.StringIO()
    view.render("changes", CHANGES, "csv", Console(file=buf))
    assert buf.getvalue().splitlines()[0] == ",".join(view.CHANGE_COLUMNS)


def test_a_trend_row_shows_value_interval_and_the_change_point():
    t = pd.DataFrame([{"config_id": "c1", "label": "gpt", "machine": "m", "git_commit": "c" * 40,
                       "commit_time": pd.Timestamp("2026-01-01T00:00:00", tz="UTC"), "branch": "", "runs": 1,
                       "metric": "tokens_per_s", "value": 341910.0, "ci_low": 340401.0, "ci_high": 342111.0,
                       "repeats": 3, "change_point": "-5.1% [-5.3%, -4.9%]"}])
    [row] = view.trend_rows(t)
    assert row[2] == "c" * 12 and row[4] == "-" and row[6] == "341,910 [340,401, 342,111]" and row[-1].startswith("-5.1%")


def test_shape_lines_say_drift_and_two_modes_in_words():
    from benchbench.present.history import shape_line

    base = {"label": "gpt tiny", "config_id": "c1", "machine_label": "host m"}
    line = shape_line({**base, "shape": "drift", "change": -0.058, "commits": 30, "per_commit": -0.002,
                       "per_commit_ci_low": -0.0023, "per_commit_ci_high": -0.0017, "worse": True})
    assert line == ("drift: gpt tiny (c1) on host m: -5.8% over 30 commits (-0.20% [-0.23%, -0.17%] a commit), "
                    "a regression")
    line = shape_line({**base, "shape": "two modes", "change": 0.031, "commits": 30, "worse": False})
    assert line.startswith("two modes: gpt tiny (c1) on host m: values in two modes 3.1% apart") and "add repeats" in line
