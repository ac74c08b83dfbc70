"""The explanation as text and markdown, and the report's explain panel (roofline, per-config panel)."""

from pathlib import Path

import pandas as pd
import pytest

from benchbench.analysis import explain
from benchbench.collectors import trace_summary
from benchbench.present import explain as present
from benchbench.present.report import build, explain_panel
from tests.fixtures import traces as T

GEMM = "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT"
ENGINES = Path(__file__).parents[3] / "results/examples/llama-fp8-h200/engines"


@pytest.fixture(scope="module")
def e():
    def side(kernels, step):
        tr = T.synthetic(kernels)
        s = trace_summary.summarize(tr)
        return pd.DataFrame([T.row(tr, step * j, repeat=i, summary=s, host_syncs_per_step=0)
                             for i, j in enumerate((0.999, 1.0, 1.002))]), tr
    (ra, ta), (rb, tb) = side([(GEMM, 700.0), (T.ADD, 300.0)], 1e-3), side([(GEMM, 700.0), (T.ADD, 300.0), (T.MUL, 200.0)], 1.2e-3)
    x = explain.explain_config(ra, rb, traces={**{("a", i): ta for i in range(3)}, **{("b", i): tb for i in range(3)}})
    x.label = "gpt tiny"
    return x


def test_text_leads_with_the_one_line_and_shows_unexplained(e):
    lines = present.text(e).splitlines()
    assert lines[0] == "gpt tiny: +20.0% step time: one elementwise kernel (mul new in B) explains 100%"
    assert any(line.strip().startswith("unexplained") for line in lines)
    assert any("mul" in line and "new in B" in line for line in lines)


def test_markdown_tables(e):
    md = present.markdown(e)
    assert "| device: norm_elementwise | +0.200 |" in md and "| unexplained |" in md
    assert "| `mul` | norm_elementwise | - | 0.20 | new in B |" in md


def test_bound_line_says_the_basis():
    b = {"bound": "host/launch", "bound_basis": "GPU busy 43% of the profiled steps", "achieved_tflops_per_s": 277.0,
         "achieved_gb_per_s": 455.0, "roofline_frac": 0.28}
    assert present.bound_line("B", b) == ("B: host/launch (GPU busy 43% of the profiled steps); 277 TFLOP/s, "
                                          ">= 455 GB/s, 28% of the roofline")
    assert "unknown" in present.bound_line("A", {})


def test_the_report_has_a_roofline_of_every_config():
    rep = build([ENGINES])
    figs = {fid: fig for s, fid, fig in rep.figures if s == "explain"}
    names = {t["name"] for t in figs["fig-roofline"]["data"]}
    assert "host/launch" in names and any(n.startswith("roof: 989 TFLOP/s, 4800 GB/s") for n in names)
    assert sum(len(t["x"]) for t in figs["fig-roofline"]["data"] if t["mode"] == "markers") == 7


def test_a_config_panel_has_categories_side_by_side_and_the_movers(e):
    fig = explain_panel.config_panel(e, "a", "b")
    cats, movers = fig["data"][0], fig["data"][2]
    assert "GPU idle" in cats["x"] and fig["data"][1]["name"] == "B: b"
    assert movers["y"][0] == "mul" and movers["x"][0] == pytest.approx(0.2)
    assert e.lead in fig["layout"]["title"]["text"]
