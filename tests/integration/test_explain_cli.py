"""`benchbench explain` through the real command line on run directories of synthetic profiled rows and
their stored traces (tests/fixtures/traces.py): B runs one extra multiply kernel a step."""

import gzip
import json
from pathlib import Path

import pytest

from benchbench.collectors import trace_summary
from tests.fixtures import traces as T
from tests.fixtures.runs import GPU_ENV, config, write_run
from tests.integration.test_cli import cli_run, plain_output  # noqa: F401

GEMM = "nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT"
KERNELS = [(GEMM, 6000.0), (T.ADD, 2000.0)]


def profiled_run(d: Path, kernels, median: float, profile=True) -> Path:
    trace = T.synthetic(kernels)
    rows = config("c1", median, attention="sdpa", precision="bf16")
    for r in rows:
        if profile:
            rel = f"artifacts/c1-r{r['repeat']}/trace.json.gz"
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(d / rel, "wt") as f:
                json.dump(trace, f)
            r.update(trace_summary.summarize(trace), profile_steps=3, profile_trace=rel, host_syncs_per_step=0,
                     device_name="NVIDIA H100 80GB HBM3", peak_tflops=989.0)
    return write_run(d, rows, env=GPU_ENV)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain")
    a = profiled_run(root / "a", KERNELS, 0.008)
    b = profiled_run(root / "b", [*KERNELS, (T.MUL, 800.0)], 0.0088)
    bare = profiled_run(root / "bare", KERNELS, 0.008, profile=False)
    return a, b, bare


def test_explain_names_the_new_kernel(runs):
    a, b, _ = runs
    p = cli_run("explain", a, b)
    assert p.returncode == 0, p.stderr
    first = p.stdout.splitlines()[0]
    assert "+10.0% step time: one elementwise kernel (mul new in B) explains" in first
    assert "unexplained" in p.stdout and "verdict (compare, step time): slower" in p.stdout
    assert "bound A:" in p.stdout


def test_markdown_and_json(runs):
    a, b, _ = runs
    md = cli_run("explain", a, b, "--format", "markdown", "--config", "c1")
    assert md.returncode == 0, md.stderr
    assert "| unexplained |" in md.stdout and "| `mul` | norm_elementwise | - |" in md.stdout
    js = cli_run("explain", a, b, "--format", "json")
    assert js.returncode == 0, js.stderr
    (e,) = json.loads(js.stdout)
    assert e["config_id"] == "c1" and e["kernels"]["new"][0]["label"] == "mul"
    assert e["delta_s"] == pytest.approx(0.0008, rel=0.05)
    assert sum(p["delta_s"] for p in e["parts"]) == pytest.approx(e["delta_s"])  # unexplained closes the sum
    assert e["bound"]["a"]["bound"] is not None


@pytest.mark.parametrize("args, message", [
    (("{a}", "{missing}"), "not a run directory"),
    (("{a}", "{b}", "--config", "nope"), "config nope is not in both runs"),
    (("{a}", "{bare}"), "rerun the configs with `benchbench run SUITE --profile`"),
])
def test_bad_input_is_one_line_and_exit_2(runs, tmp_path, args, message):
    a, b, bare = runs
    p = cli_run("explain", *(x.format(a=a, b=b, bare=bare, missing=tmp_path / "none") for x in args))
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_compare_gives_the_short_explanation_beside_a_verdict(runs, tmp_path):
    a, b, bare = runs
    p = cli_run("compare", a, b, "--markdown", tmp_path / "c.md")
    assert p.returncode == 0, p.stderr
    assert "why gpt tiny: +10.0% step time: one elementwise kernel (mul new in B)" in p.stdout
    assert "- why gpt tiny: +10.0% step time" in (tmp_path / "c.md").read_text()
    assert "why " not in cli_run("compare", a, bare).stdout  # no profile on one side: no line


def test_gate_markdown_says_why(runs, tmp_path):
    a, b, _ = runs
    assert cli_run("baseline", "save", a, "--name", "a", "--dir", tmp_path).returncode == 0
    p = cli_run("gate", b, "--baseline", tmp_path / "a.json", "--markdown", tmp_path / "g.md")
    assert p.returncode == 1, p.stderr
    md = (tmp_path / "g.md").read_text()
    assert "**Why** (`benchbench explain`)" in md and "one elementwise kernel (mul new in B)" in md


ENGINES = Path(__file__).parents[2] / "results/examples/llama-fp8-h200/engines"  # one H200; 3 of 7 configs profiled


def test_committed_rows_configs_without_a_profile_are_named_and_table_shows_the_bound():
    p = cli_run("explain", ENGINES, ENGINES)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("no change to explain") == 3
    assert p.stderr.count("not explained: config") == 4 and "has no profile" in p.stderr
    assert "bound B: host/launch (GPU busy 43% of the profiled steps)" in p.stdout  # FSDP2 at one GPU
    t = cli_run("table", ENGINES)
    assert t.returncode == 0 and "host/launch" in t.stdout and "bound" in t.stdout


def test_bisect_explains_the_first_bad_commit_against_the_one_before(runs, tmp_path):
    from types import SimpleNamespace

    from benchbench.commands import bisect

    a, b, bare = runs
    probe = lambda commit, d: SimpleNamespace(commit=commit, run_dir=d)  # noqa: E731
    res = SimpleNamespace(first_bad="2cc", probes=[probe("0aa", a), probe("1bb", a), probe("2cc", b)])
    assert bisect.why(res, "1bb", "c1").startswith("+10.0% step time: one elementwise kernel (mul new in B)")
    assert bisect.why(res, "9ff", "c1") is None  # the commit before was not probed
    res.probes[1] = probe("1bb", bare)
    assert bisect.why(res, "1bb", "c1") is None  # no profile: nothing said


def test_the_report_says_why(runs, tmp_path):
    a, b, _ = runs
    p = cli_run("report", a, b, "--format", "markdown", "-o", "-")
    assert p.returncode == 0, p.stderr
    assert "## Why (`benchbench explain`)" in p.stdout
    assert "- b, gpt tiny: +10.0% step time: one elementwise kernel (mul new in B)" in p.stdout
    h = cli_run("report", a, b, "-o", tmp_path / "r.html")
    assert h.returncode == 0, h.stderr
    html = (tmp_path / "r.html").read_text()
    assert "Why: bounds and changes" in html and "fig-explain-0-c1" in html


def test_history_regressions_say_why_when_the_runs_are_on_disk(runs):
    import pandas as pd

    from benchbench.commands.history import why_lines

    a, b, bare = runs
    frame = pd.DataFrame({"config_id": "c1", "machine": "m", "git_commit": ["aaa", "bbb", "ccc"],
                          "run_dir": [str(a), str(b), str(bare)]})
    change = lambda before, after: pd.DataFrame([{"config_id": "c1", "machine": "m", "label": "gpt tiny",  # noqa: E731
                                                  "commit_before": before, "commit_after": after}])
    (line,) = why_lines(frame, change("aaa", "bbb"))
    assert line.startswith("why gpt tiny (aaa -> bbb): +10.0% step time: one elementwise kernel (mul new in B)")
    assert why_lines(frame, change("bbb", "ccc")) == []  # no profile after: nothing said
    assert why_lines(frame.assign(run_dir=["/gone", str(b), str(bare)]), change("aaa", "bbb")) == []
