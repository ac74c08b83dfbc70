"""compare, gate, baseline save and export through the real command line, on a run directory of
synthetic rows (tests/fixtures/runs.py: chosen step times, 3 repeats, as a run of the gate suite
would write them) and copies whose rows were changed on purpose (slower steps, an oom, another
torch), so each exit code is certain whatever the machine's speed or load: 0 pass, 1 regression,
2 bad input."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from benchbench.store import results
from tests.fixtures.runs import CPU_ENV, config, write_run
from tests.integration.test_cli import BENCHBENCH, FIXTURES, cli_run, plain_output  # noqa: F401

SUITE = FIXTURES / "gate.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate")
    a = write_run(root / "a", [*config("c1", 0.02, attention="eager"), *config("c2", 0.015, attention="sdpa", seed=1)],
                  env=CPU_ENV, suite="gate")
    (a / "suite.yaml").write_text(SUITE.read_text())
    return root, a


def variant(root: Path, a: Path, name: str, edit=None, env: dict | None = None) -> Path:
    """A copy of run `a` with each row passed through edit(row) and env.json updated."""
    d = root / name
    if d.exists():
        return d
    shutil.copytree(a, d)
    rows = results.read_rows(a)
    (d / results.ROWS).write_text("".join(json.dumps(edit(dict(r)) if edit else r) + "\n" for r in rows))
    if env:
        e = json.loads((a / "env.json").read_text())
        (d / "env.json").write_text(json.dumps({**e, **env}))
    return d


def slower(factor):
    def edit(r):
        r["step_times_s"] = [t * factor for t in r["step_times_s"]]
        r["tokens_per_s"] /= factor
        return r
    return edit


def oom_sdpa(r):
    if r["attention"] == "sdpa":
        r.update(status="oom", reason="CUDA out of memory (test)")
        for k in ("step_times_s", "tokens_per_s"):
            r.pop(k, None)
    return r


@pytest.fixture(scope="module")
def saved(runs):
    root, a = runs
    p = cli_run("baseline", "save", a, "--name", "gate-test", "--dir", root / "baselines",
                "--rule", "tokens_per_s:-20%", "--note", "test", cwd=root)
    assert p.returncode == 0, p.stderr
    return root / "baselines" / "gate-test.json"


def test_baseline_save_writes_the_file_and_refuses_to_overwrite(runs, saved):
    root, a = runs
    data = json.loads(saved.read_text())
    assert data["suite"] == "gate" and data["rules"] == ["tokens_per_s:-20%"] and len(data["rows"]) == 6
    p = cli_run("baseline", "save", a, "--name", "gate-test", "--dir", root / "baselines", cwd=root)
    assert p.returncode == 2 and "exists; replacing a baseline is deliberate: add --force" in p.stderr
    assert "Traceback" not in p.stderr


def test_compare_same_run_and_a_slower_copy(runs):
    root, a = runs
    same = variant(root, a, "same")
    p = cli_run("compare", a, same, "--markdown", root / "c.md", cwd=root)
    assert p.returncode == 0, p.stderr
    assert "same: 2" in p.stdout and "1.000x" in p.stdout
    assert "| attention=eager |" in (root / "c.md").read_text()
    slow = variant(root, a, "slow", slower(5.0))
    p = cli_run("compare", a, slow, "--metric", "step_time_s", cwd=root)
    assert p.returncode == 0 and "slower: 2" in p.stdout and "5.000x" in p.stdout
    assert "Holm over 2 tests" in p.stdout
    p = cli_run("compare", a, same, "--between-run-sd", "-1", cwd=root)
    assert p.returncode == 2 and "--between-run-sd: '-1': must be a finite number at least 0" in p.stderr and "Traceback" not in p.stderr
    p = cli_run("compare", a, same, "--between-run-sd", "0.5", cwd=root)
    assert p.returncode == 0, p.stderr
    # several metrics are one family: Holm over every config and metric (2 configs x 2 metrics)
    p = cli_run("compare", a, slow, "--metric", "step_time_s,tokens_per_s", cwd=root)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("Holm over 4 tests") == 2 and p.stdout.count("slower: 2") == 2, p.stdout
    p = cli_run("compare", a, "--by", "attention", "--metric", "step_time_s,tokens_per_s", cwd=root)
    assert p.returncode == 2 and "--by takes one metric" in p.stderr and "Traceback" not in p.stderr


def test_compare_three_runs_each_against_the_first(runs):
    root, a = runs
    p = cli_run("compare", a, variant(root, a, "same"), variant(root, a, "slow", slower(5.0)), cwd=root)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count(f"vs {a} (median") == 2 and "same: 2" in p.stdout and "slower: 2" in p.stdout


def test_compare_by_axis_in_one_run(runs):
    root, a = runs
    p = cli_run("compare", a, "--by", "attention", cwd=root)
    assert p.returncode == 0, p.stderr
    assert "1.00x (ref)" in p.stdout and "relative to attention=eager" in p.stdout


def test_gate_passes_on_the_same_numbers(runs, saved):
    root, a = runs
    p = cli_run("gate", variant(root, a, "same"), "--baseline", saved, "--markdown", root / "pass.md", cwd=root)
    assert p.returncode == 0, p.stderr
    assert "gate: PASS (tokens_per_s:-20%)" in p.stderr
    assert (root / "pass.md").read_text().startswith("**benchbench gate: PASS**")


def test_gate_fails_on_a_slowdown(runs, saved):
    root, a = runs
    p = cli_run("gate", variant(root, a, "slow", slower(5.0)), "--baseline", saved, "--markdown", root / "f.md", cwd=root)
    assert p.returncode == 1, p.stderr
    assert "regression: tokens_per_s:-20% attention=eager" in p.stderr and "-80.0%" in p.stderr
    md = (root / "f.md").read_text()
    assert md.startswith("**benchbench gate: FAIL** - 2 regressions") and "<details>" in md


def test_gate_a_small_slowdown_under_the_threshold_passes(runs, saved):
    root, a = runs
    p = cli_run("gate", variant(root, a, "slow10", slower(1.1)), "--baseline", saved, cwd=root)
    assert p.returncode == 0, p.stderr  # -9% against the baseline's tokens_per_s:-20%


def test_rules_on_the_command_line_replace_the_baselines(runs, saved):
    root, a = runs
    p = cli_run("gate", variant(root, a, "slow", slower(5.0)), "--baseline", saved, "--rule", "tokens_per_s:-90%", cwd=root)
    assert p.returncode == 0 and "gate: PASS (tokens_per_s:-90%)" in p.stderr, p.stderr  # -80% is within 90%


def test_rules_from_the_suite_when_the_baseline_has_none(runs, tmp_path):
    root, a = runs
    run = variant(root, a, "suite-rules", slower(2.0))
    (run / "suite.yaml").write_text(SUITE.read_text() + 'gate: ["tokens_per_s:-90%"]\n')
    base = tmp_path / "plain.json"
    p = cli_run("baseline", "save", a, "--name", "plain", "--dir", tmp_path, cwd=root)   # a's suite has no gate:
    assert p.returncode == 0 and json.loads(base.read_text())["rules"] == []
    p = cli_run("gate", run, "--baseline", base, cwd=root)
    # -50%: a regression under the default rules (-5%), not under the suite's looser one
    assert p.returncode == 0 and "gate: PASS (tokens_per_s:-90%)" in p.stderr, p.stderr
    p = cli_run("baseline", "save", run, "--name", "from-suite", "--dir", tmp_path, cwd=root)
    assert p.returncode == 0 and json.loads((tmp_path / "from-suite.json").read_text())["rules"] == ["tokens_per_s:-90%"]
    p = cli_run("gate", run, "--baseline", base, "--rule", "tokens_per_s:-5%", cwd=root)
    assert p.returncode == 1, p.stderr                                      # --rule wins over the suite


def test_gate_fails_on_ok_to_oom(runs, saved):
    root, a = runs
    p = cli_run("gate", variant(root, a, "oom", oom_sdpa), "--baseline", saved, cwd=root)
    assert p.returncode == 1 and "attention=sdpa" in p.stderr and "status changed" in p.stderr


def test_gate_refuses_another_torch_unless_allowed(runs, saved):
    root, a = runs
    other = variant(root, a, "torch", env={"torch_version": "9.9.9"})
    p = cli_run("gate", other, "--baseline", saved, cwd=root)
    assert p.returncode == 2 and "torch version:" in p.stderr and "9.9.9 (run)" in p.stderr
    assert "--allow-env-change" in p.stderr and "Traceback" not in p.stderr
    p = cli_run("gate", other, "--baseline", saved, "--allow-env-change", "--markdown", root / "env.md", cwd=root)
    assert p.returncode == 0, p.stderr
    first = (root / "env.md").read_text().splitlines()[0]
    assert "PASS" in first and "environment changed" in first and "9.9.9" in first


@pytest.mark.parametrize("args,message", [
    (["--baseline", "nowhere.json"], "nowhere.json: no such baseline file"),
    (["--rule", "tokens_per_s:5"], "expected metric:-N%"),
    (["--rule", "tokens_per_s:+5%"], "higher is better"),
    (["--rule", "peak_allocated_bytes:+5%"], "peak_allocated_bytes' has no value"),
])
def test_gate_bad_input_exits_2(runs, saved, args, message):
    root, a = runs
    if "--baseline" not in args:
        args = [*args, "--baseline", saved]
    p = cli_run("gate", a, *args, cwd=root)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_gate_and_compare_input_errors_exit_2(runs, saved, tmp_path):
    root, a = runs
    for args, message in ((["gate", tmp_path, "--baseline", saved], "not a run directory"),
                          (["compare", a], "compare needs two runs"),
                          (["compare", a, "--by", "precision"], "precision does not vary"),
                          (["compare", a, a, "--metric", "nope"], "'nope' has no value")):
        p = cli_run(*args, cwd=root)
        assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)


def test_export_pytest_benchmark_is_read_by_its_compare(runs):
    root, a = runs
    out = root / "pb.json"
    p = cli_run("export", a, "--format", "pytest-benchmark", "-o", out, cwd=root)
    assert p.returncode == 0, p.stderr
    assert len(json.loads(out.read_text())["benchmarks"]) == 2
    tool = shutil.which("pytest-benchmark") or pytest.skip("pytest-benchmark's command is not installed")
    shutil.copy(out, root / "pb2.json")  # two files: pytest-benchmark compares saved runs
    q = subprocess.run([tool, "compare", str(out), str(root / "pb2.json")], capture_output=True, text=True, timeout=120)
    assert q.returncode == 0, q.stderr
    assert "gate[attention=eager]" in q.stdout and "gate[attention=sdpa]" in q.stdout
