"""benchbench/report: data, charts, HTML (escaping, offline, one file) and markdown, from synthetic runs."""

import json
import re

import pandas as pd
import pytest

from benchbench.present import markdown, report
from benchbench.present.report import charts, data, html
from tests.fixtures import runs as fx

EVIL = "<script>alert(1)</script>"


def make_run(tmp_path, name="a", speed=1.0, suite="quickstart", evil=False, profile=False, artifacts=False):
    """Four configs: eager/sdpa x fp32/bf16 (one bf16 config OOMs), plus a skipped one."""
    rows = []
    for i, (att, prec, median, rss) in enumerate([("eager", "fp32", 0.10, 500e6), ("sdpa", "fp32", 0.08, 400e6),
                                                  ("eager", "bf16", 0.06, 450e6), ("sdpa", "bf16", 0.05, 300e6)]):
        extra = {}
        if profile:
            extra = dict(profile_busy_frac=0.9, profile_share_matmul=0.6, profile_share_attention=0.2,
                         profile_share_norm_elementwise=0.1, profile_share_optimizer=0.05, profile_share_communication=0.0,
                         profile_share_memcpy=0.03, profile_share_other=0.02, mfu=0.3 + i / 20, tokens_per_j=1000.0 + i)
        if artifacts:
            extra["profile_trace"] = f"artifacts/c{i}-r0/trace.json.gz"
        rows += fx.config(f"c{i}", median / speed, attention=EVIL if (evil and i == 0) else att, precision=prec,
                          rss=rss, seed=i, **extra)
    rows.append(fx.row("c4", status="oom", attention="flash", precision="bf16"))
    rows.append(fx.row("c5", status="skipped", attention="flash", precision="fp32", reason=f"needs bf16 {EVIL}"))
    d = fx.write_run(tmp_path / name, rows, suite=suite)
    (d / "suite.yaml").write_text(f"name: {json.dumps(suite)}\ndescription: {json.dumps('about ' + EVIL)}\n"
                                  "sweep: {precision: [fp32, bf16], attention: [eager, sdpa, flash]}\n")
    if artifacts:
        (d / "artifacts" / "c0-r0").mkdir(parents=True)
        (d / "artifacts" / "c0-r0" / "trace.json.gz").write_bytes(b"x")
    return d


def test_pareto_front_keeps_only_undominated_configs():
    t = pd.DataFrame({"status": ["ok", "ok", "ok", "ok", "oom"], "tokens_per_s": [100, 200, 150, 300, None],
                      "peak_memory_bytes": [10, 20, 30, 40, None]})
    # 150 at 30 is beaten by 200 at 20; the others each buy throughput with memory.
    assert data.pareto(t, "tokens_per_s") == [True, True, False, True, False]


def test_per_config_table(tmp_path):
    run = data.load_run(make_run(tmp_path, profile=True))
    t = run.configs.set_index("config_id")
    assert list(t.index) == ["c0", "c1", "c2", "c3", "c4", "c5"]
    assert t.loc["c0", "speedup"] == pytest.approx(1.0)          # the run's baseline config: the first
    assert t.loc["c3", "speedup"] == pytest.approx(2.0, rel=0.03)
    assert t.loc["c0", "throughput_ci_low"] < t.loc["c0", "tokens_per_s"] < t.loc["c0", "throughput_ci_high"]
    assert t.loc["c3", "pareto"] and not t.loc["c0", "pareto"] and not t.loc["c4", "pareto"]
    assert t.loc["c0", "gpu_time_matmul"] == pytest.approx(0.54) and t.loc["c0", "gpu_time_idle"] == pytest.approx(0.1)
    assert t.loc["c0", "j_per_token"] == pytest.approx(1e-3)
    assert t.loc["c4", "status"] == "oom"
    assert "c0" in t.loc["c0", "label"] or "attention=eager" in t.loc["c0", "label"]


def test_artifact_links_only_for_files_that_exist(tmp_path):
    d = make_run(tmp_path, artifacts=True)
    (d / "configs").mkdir()
    (d / "configs" / "c1.json").write_text("{}")
    t = data.load_run(d).configs.set_index("config_id")
    assert t.loc["c0", "artifacts"] == [("profiler trace", "artifacts/c0-r0/trace.json.gz")]
    assert t.loc["c1", "artifacts"] == [("config", "configs/c1.json")]  # its trace was never written
    page = html.render(report.build([d]), tmp_path / "out")
    assert 'href="../a/artifacts/c0-r0/trace.json.gz"' in page  # relative to where the report is written


def test_html_is_one_offline_file_with_every_chart(tmp_path):
    d = make_run(tmp_path, profile=True)
    rep = report.build([d])
    page = html.render(rep, tmp_path)
    ids = [fid for _, fid, _ in rep.figures]
    assert "fig-pareto" in ids and "fig-profile-0" in ids and any(i.startswith("fig-axes") for i in ids)
    for fid in ids:
        assert f'id="{fid}"' in page and f'data-target="{fid}"' in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page)   # nothing fetched from a network
    assert "Plotly.newPlot" in page and len(page) > 3_000_000   # plotly.js itself is in the file
    # the figures are valid JSON as embedded
    for m in re.finditer(r'<script type="application/json" class="bb-fig" data-target="[^"]+">(.*?)</script>', page, re.S):
        fig = json.loads(m.group(1))
        assert fig["data"] and "template" not in fig["layout"]


def test_user_text_is_escaped_everywhere(tmp_path):
    d = make_run(tmp_path, suite=EVIL, evil=True)
    rep = report.build([d])
    page = html.render(rep, tmp_path)
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page     # the suite name, the description, the axis value
    # inside figure JSON: no '<' at all, so no '</script>' can end the element early
    for m in re.finditer(r'class="bb-fig"[^>]*>(.*?)</script>', page, re.S):
        assert "<" not in m.group(1)
    text = json.dumps(charts.throughput_vs_memory(rep.runs))
    assert "<script>" not in text and "&lt;script&gt;" in text   # plotly renders HTML in labels: escaped there too


def test_no_chart_for_what_was_not_measured(tmp_path):
    rep = report.build([make_run(tmp_path)])            # a CPU run: no profile, MFU or energy
    ids = [fid for _, fid, _ in rep.figures]
    assert not any(i.startswith("fig-profile") for i in ids)
    titles = [f["layout"]["title"]["text"] for _, _, f in rep.figures]
    assert not any("MFU" in t or "energy" in t for t in titles)
    page = html.render(rep, tmp_path)
    assert ">MFU %<" not in page and ">mJ/token<" not in page


def test_a_run_of_one_config(tmp_path):
    d = fx.write_run(tmp_path / "one", fx.config("only", 0.1))
    rep = report.build([d])
    page = html.render(rep, tmp_path)
    assert [fid for _, fid, _ in rep.figures] == ["fig-pareto"]
    assert page.count("<tr data-status=") == 1


def test_a_run_where_nothing_ran(tmp_path):
    d = fx.write_run(tmp_path / "none", [fx.row("x", status="oom"), fx.row("y", status="error")])
    rep = report.build([d])
    page = html.render(rep, tmp_path)
    assert rep.figures == [] and page.count("<tr data-status=") == 2
    assert "1 oom" in page and "1 error" in page


def test_several_runs_get_verdicts_and_side_by_side_bars(tmp_path):
    a = make_run(tmp_path, "a")
    b = make_run(tmp_path, "b", speed=1.5)       # every config 1.5x faster
    rep = report.build([a, b])
    assert [rep.verdicts["b"][c] for c in ("c0", "c1", "c2", "c3")] == ["faster"] * 4
    assert "fig-runs" in [fid for _, fid, _ in rep.figures]
    page = html.render(rep, tmp_path)
    assert "b vs a" in page and page.count('class="verdict-chip v-faster"') >= 8   # comparison table + configs table


def test_same_directory_name_twice_gets_unique_names(tmp_path):
    a = make_run(tmp_path / "x", "run")
    b = make_run(tmp_path / "y", "run")
    assert [r.name for r in report.build([a, b]).runs] == ["run", "run (2)"]


def test_baseline_verdict_in_the_header(tmp_path):
    from benchbench.store import baseline

    base = baseline.save(make_run(tmp_path, "base"), "b", tmp_path / "baselines", rules=["tokens_per_s:-5%"])
    ok = html.render(report.build([make_run(tmp_path, "same")], baseline=base), tmp_path)
    assert "<b>PASS</b>" in ok
    slow = report.build([make_run(tmp_path, "slow", speed=0.5)], baseline=base)
    page = html.render(slow, tmp_path)
    assert "<b>FAIL</b>" in page and "Regressions against the baseline" in page
    other = report.build([make_run(tmp_path, "other", suite="another")], baseline=base)
    assert "<b>Not gated</b>" in html.render(other, tmp_path) and other.baseline[0].error


def test_markdown_has_the_tables(tmp_path):
    rep = report.build([make_run(tmp_path, "a"), make_run(tmp_path, "b", speed=1.5)])
    text = markdown.report(rep)
    assert text.startswith("# benchbench report: quickstart")
    assert "| run | precision | attention | status | tokens_per_s |" in text
    assert "## b vs a" in text and "| faster |" in text
    assert "| oom |" in text and "| skipped |" in text
    assert "needs bf16 &lt;script&gt;" in text and EVIL not in text   # a PR comment renders HTML


def test_bar_charts_of_many_configs_show_the_telling_ones(tmp_path):
    rows = []
    for i in range(70):
        rows += fx.config(f"c{i:02d}", 0.1 + i / 1000, repeats=1, seed=i, attention=f"a{i}", profile_busy_frac=0.5,
                          profile_share_matmul=1.0)
    run = data.load_run(fx.write_run(tmp_path / "many", rows))
    fig = charts.profile(run)
    assert len(fig["data"][0]["y"]) == charts.MAX_BARS and "60 of 70 configs" in fig["layout"]["title"]["text"]
    assert fig["data"][0]["y"][0] == run.configs.loc[run.configs["pareto"], "label"].iloc[0]   # the front first


def test_charts_of_several_runs_name_their_run(tmp_path):
    rep = report.build([make_run(tmp_path, "a", profile=True), make_run(tmp_path, "b", profile=True)])
    titles = {fid: f["layout"]["title"]["text"] for _, fid, f in rep.figures}
    assert titles["fig-profile-0"].startswith("a: ") and titles["fig-profile-1"].startswith("b: ")
    assert html.render(rep, tmp_path).count('<p class="lede">') == 1   # one suite: its description once


def test_predicted_memory_column_when_rows_carry_it(tmp_path):
    rows = fx.config("c0", 0.1, predicted_peak_bytes=2 * 2**30, predicted_peak_error=0.05, peak_allocated_bytes=1.9 * 2**30) \
        + fx.config("c1", 0.05, seed=1, attention="sdpa", peak_allocated_bytes=2**30)  # GPU rows: the allocator's peak
    page = html.render(report.build([fx.write_run(tmp_path / "p", rows)]), tmp_path)
    assert ">predicted GiB</th>" in page and ">2.00</td>" in page and "predicted / measured - 1 = +5.0%" in page
    assert ">predicted GiB</th>" not in html.render(report.build([make_run(tmp_path, "n")]), tmp_path)


def test_cost_scatter_only_with_a_price(tmp_path):
    rows = [*fx.config("c1", 0.1, price_per_gpu_hour=2.0), *fx.config("c2", 0.05, attention="sdpa", price_per_gpu_hour=2.0)]
    rep = report.build([fx.write_run(tmp_path / "priced", rows)])
    [fig] = [f for _, fid, f in rep.figures if fid == "fig-cost"]
    assert "usd_per_mtoken" in fig["layout"]["title"]["text"]
    run = rep.runs[0]
    costs = run.configs.set_index("config_id")["usd_per_mtoken"]
    assert costs["c2"] == pytest.approx(costs["c1"] / 2, rel=0.05)  # twice the speed, half the cost
    ys = [_values(tr["y"]) for tr in fig["data"]]
    assert sorted(y for trace in ys[:-1] for y in trace) == pytest.approx(sorted(costs))
    assert ys[-1] == pytest.approx([costs["c2"]])  # as lean and cheaper: c2 alone on the front
    assert "fig-cost" not in [fid for _, fid, _ in report.build([make_run(tmp_path)]).figures]


def _values(a) -> list[float]:
    """A figure's array: a list, or plotly's packed form {"dtype", "bdata": base64}."""
    if isinstance(a, dict):
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=a["dtype"]).tolist()
    return list(a)


def test_an_inconclusive_gate_is_inconclusive_in_the_banner_and_the_markdown(tmp_path):
    """The report never says FAIL (or PASS) where `gate` exits 4: too noisy to judge."""
    from benchbench.analysis import gate
    from benchbench.store import baseline

    base = baseline.save(fx.write_run(tmp_path / "base", fx.config("c0", 0.1, repeats=5, seed=1)), "b",
                         tmp_path / "baselines", rules=["tokens_per_s:-5%"])
    # repeats 10-20% apart around a 15% slower median: noisy, not judged on time
    noisy = [fx.row("c0", k, step_times=fx.steps(0.1 * f, seed=k)) for k, f in enumerate((1.0, 1.3, 1.15, 1.02, 1.28))]
    rep = report.build([fx.write_run(tmp_path / "noisy", noisy)], baseline=base)
    res = rep.baseline[0].result
    assert res.exit_code == gate.EXIT_INCONCLUSIVE and res.outcome == "INCONCLUSIVE"
    page = html.render(rep, tmp_path)
    assert "<b>INCONCLUSIVE</b>" in page and "<b>FAIL</b>" not in page and "<b>PASS</b>" not in page
    text = markdown.report(rep)
    assert "**INCONCLUSIVE**" in text and "**FAIL**" not in text and "**PASS**" not in text
    assert "**benchbench gate: INCONCLUSIVE**" in markdown.gate_summary(res, "b", "noisy", 0.05)


def test_a_cpu_run_sets_no_device_memory_prediction_beside_its_host_rss(tmp_path):
    rows = [{**r, "predicted_peak_bytes": 2e9} for r in fx.config("c0", 0.1) + fx.config("c1", 0.05, seed=1)]
    page = html.render(report.build([fx.write_run(tmp_path / "cpu", rows)]), tmp_path)
    assert "host RSS" in page and "predicted GiB" not in page
    gpu = [{**r, "peak_allocated_bytes": 1.5e9} for r in rows]  # the allocator's peak measured: the pair is fair
    assert "predicted GiB" in html.render(report.build([fx.write_run(tmp_path / "gpu", gpu)]), tmp_path)
