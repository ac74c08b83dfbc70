"""benchbench report through the real command line on a real (tiny, profiled, CPU) run; the HTML
opened in headless Chromium: no JavaScript error, every chart drawn, screenshots kept."""

import os
import re
import shutil

import pytest

from tests.fixtures import browser
from tests.fixtures import runs as fx
from tests.integration.test_cli import FIXTURES, cli_run, plain_output  # noqa: F401

SUITE = FIXTURES / "report.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    p = cli_run("run", SUITE, "-o", root / "a", "-q", cwd=root)
    assert p.returncode == 0, p.stderr
    return root / "a"


@pytest.fixture(scope="module")
def two_runs(run, tmp_path_factory):
    b = tmp_path_factory.mktemp("report-b") / "b"
    shutil.copytree(run, b)
    return run, b


def need_browser():
    why = browser.missing()
    if why:
        if os.environ.get("BENCHBENCH_REQUIRE_BROWSER"):
            pytest.fail(f"BENCHBENCH_REQUIRE_BROWSER is set but {why}")
        pytest.skip(why)


def test_html_report_of_a_real_run(run, tmp_path):
    out = tmp_path / "r" / "report.html"
    p = cli_run("report", run, "-o", out)
    assert p.returncode == 0, p.stderr
    page = out.read_text()
    assert "benchbench report: report" in page and "CPU: " in page
    assert page.count("<tr data-status=") == 5
    links = re.findall(r'<a href="([^"]+)">profiler trace</a>', page)
    assert len(links) == 5                                         # every config's trace is linked...
    assert all(not os.path.isabs(h) and (out.parent / h).is_file() for h in links)   # ...relative to the report


def test_default_output_is_inside_the_run(run):
    p = cli_run("report", run)
    assert p.returncode == 0, p.stderr
    assert (run / "report.html").is_file()


def test_markdown_to_stdout(run):
    p = cli_run("report", run, "--format", "markdown", "-o", "-")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("# benchbench report: report")
    assert "| precision | checkpointing | attention | status |" in p.stdout


@pytest.mark.parametrize("argv, message", [
    (["report", "/nonexistent/run"], "not a run directory"),
    (["report", "{run}", "--baseline", "/nonexistent/b.json"], "no such file"),
    (["report", "{run}", "-o", "-"], "only --format markdown"),
])
def test_bad_input_is_exit_2(run, argv, message):
    p = cli_run(*[a.format(run=run) for a in argv])
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


def test_a_baseline_of_another_suite_is_reported_not_fatal(run, tmp_path):
    other = fx.write_run(tmp_path / "other", fx.config("x", 0.1), suite="another")
    p = cli_run("baseline", "save", other, "--name", "other", "--dir", tmp_path)
    assert p.returncode == 0, p.stderr
    p = cli_run("report", run, "--baseline", tmp_path / "other.json", "-o", tmp_path / "r.html")
    assert p.returncode == 0, p.stderr
    assert "Not gated" in (tmp_path / "r.html").read_text()


@pytest.mark.browser
def test_report_in_a_real_browser(two_runs, tmp_path):
    need_browser()
    a, b = two_runs
    out = tmp_path / "report.html"
    assert cli_run("report", a, b, "-o", out).returncode == 0
    page = browser.open_report(out, shots=tmp_path / "screenshots")
    assert page.js_errors == []
    assert page.charts >= 5 and page.rendered == page.charts   # pareto, runs, 2 per-axis, 2 profiles
    assert all(s.stat().st_size > 10_000 for s in page.screenshots)


@pytest.mark.browser
def test_escaped_suite_name_runs_no_script_in_the_browser(tmp_path):
    need_browser()
    evil = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    d = fx.write_run(tmp_path / "evil", fx.config("x", 0.1) + fx.config("y", 0.05, attention=evil), suite=evil)
    out = tmp_path / "evil.html"
    assert cli_run("report", d, "-o", out).returncode == 0
    page = browser.open_report(out)
    # an executed alert() would block the page (selenium raises UnexpectedAlertPresentException)
    assert page.js_errors == [] and page.rendered == page.charts >= 1
