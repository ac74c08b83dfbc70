"""One value per config: table, compare, report, recommend, history and the exports show the same
number for a config (analysis/value.py), and cost and MFU follow from it."""

import math

import numpy as np
import pytest

from benchbench.analysis import compare, cost, recommend, series
from benchbench.analysis import summary as tables
from benchbench.analysis import value as values
from benchbench.present.export import bencher
from benchbench.present.export import common as export
from benchbench.present.report import data as report
from tests.fixtures import runs

PRICE = 2.5  # US dollars per GPU-hour
TOKENS = 1024


def skewed(median: float, seed: int) -> list[float]:
    """Step times whose mean is well above their median (a few slow steps), as on a busy machine."""
    t = np.asarray(runs.steps(median, n=21, seed=seed))
    t[:3] *= 3.0
    return t.tolist()


def config(cid: str, median: float, repeats: int, attention: str) -> list[dict]:
    out = []
    for k in range(repeats):
        r = runs.row(cid, k, step_times=skewed(median * (1 + 0.03 * k), seed=k), attention=attention,
                     tokens_per_step=TOKENS, price_per_gpu_hour=PRICE, world_size=1)
        r["mfu"] = r["tokens_per_s"] * 6e6 / 1e12 / 100.0  # proportional to the row's own (mean) throughput
        out.append(r)
    return out


@pytest.fixture
def run_dir(tmp_path):
    rows = config("a", 0.1, 3, "eager") + config("b", 0.08, 4, "sdpa")  # 3 and 4 repeats: odd and even medians
    return runs.write_run(tmp_path / "run", rows)


def expected(df, cid):
    """The definition: the median over ok repeats of each repeat's median per-step throughput."""
    g = df[df["config_id"] == cid]
    return float(np.median([np.median(TOKENS / np.asarray(t)) for t in g["step_times_s"]]))


def test_every_view_shows_the_same_value_cost_and_mfu(run_dir):
    df = report.load_run(run_dir).rows
    want = {cid: expected(df, cid) for cid in ("a", "b")}
    # the rows' own tokens_per_s (from the mean step) is not it: the views must not show that
    assert all(df[df["config_id"] == c]["tokens_per_s"].median() < 0.9 * v for c, v in want.items())

    table = tables.summary(df).set_index("config_id")
    cmp = compare.compare(df, df).set_index("config_id")
    rep = report.load_run(run_dir).configs.set_index("config_id")
    rec = recommend.recommend(df).ranked.set_index("config_id")
    by_cost = recommend.recommend(df, "usd_per_mtoken").ranked.set_index("config_id")
    hist = {r["config_id"]: r["value"] for r in series.run_record(run_dir)["results"] if r["metric"] == "tokens_per_s"}
    exp = {c.config_id: c.metrics for c in export.configs(df)}
    bmf = {k.split("[")[1].rstrip("]"): v for k, v in bencher.bmf(df, {"suite": "s"}).items()}
    labels = compare.labels(df)
    for cid, v in want.items():
        assert values.config_value(df[df["config_id"] == cid], "tokens_per_s") == pytest.approx(v)
        for shown in (table.at[cid, "tokens_per_s"], cmp.at[cid, "a_value"], cmp.at[cid, "b_value"],
                      rep.at[cid, "tokens_per_s"], rec.at[cid, "value"], hist[cid], exp[cid]["tokens_per_s"],
                      bmf[labels[cid].replace(", ", ",")]["tokens_per_s"]["value"]):
            assert shown == pytest.approx(v, rel=1e-12)
        usd = PRICE / 3600 / v * 1e6  # the cost follows from the throughput shown beside it
        for shown in (table.at[cid, "usd_per_mtoken"], rep.at[cid, "usd_per_mtoken"], rec.at[cid, "usd_per_mtoken"],
                      by_cost.at[cid, "value"], exp[cid]["usd_per_mtoken"],
                      bmf[labels[cid].replace(", ", ",")]["usd_per_mtoken"]["value"]):
            assert shown == pytest.approx(usd, rel=1e-12)
        mfu = v * 6e6 / 1e12 / 100.0
        assert table.at[cid, "mfu"] == pytest.approx(mfu) and exp[cid]["mfu"] == pytest.approx(mfu)


def test_the_cli_table_and_compare_print_the_same_value(run_dir, capsys):
    from benchbench import cli

    df = report.load_run(run_dir).rows
    v = f"{expected(df, 'a'):,.0f}"
    assert cli.main(["table", str(run_dir)]) == 0
    table_out = capsys.readouterr().out
    cli.main(["compare", str(run_dir), str(run_dir)])
    compare_out = capsys.readouterr().out
    assert v in table_out and v in compare_out


def test_cost_without_a_price_or_throughput_is_left_out():
    rows = runs.frame(*[runs.row("a", k) for k in range(3)])
    assert cost.config_costs(cost.with_cost(rows), "tokens_per_s", 1000.0) == {}
    priced = cost.with_cost(rows, price_per_gpu_hour=1.0)
    assert cost.config_costs(priced, "tokens_per_s", math.nan, 1.0) == {}
    assert cost.config_costs(priced, "tokens_per_s", 1e6 / 3600, 1.0)["usd_per_mtoken"] == pytest.approx(1.0)
