"""The real command line: `benchbench run` on quickstart.yaml (smoke and full), a run killed and
resumed, Ctrl-C, bad input (exit 2, one line per problem, nothing written), list and table."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from benchbench import cli
from benchbench.spec import suite as suites
from benchbench.store import results

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "suites" / "quickstart.yaml"
FIXTURES = REPO / "tests" / "fixtures" / "suites"
_script = Path(sys.executable).with_name("benchbench")
BENCHBENCH = [str(_script)] if _script.exists() else [sys.executable, "-m", "benchbench.cli"]
RUN_FILES = ("rows.jsonl", "results.parquet", "results.csv", "env.json", "run.json", "suite.yaml")


@pytest.fixture(autouse=True)
def plain_output(monkeypatch):
    """Messages are compared as text: no colour codes, whatever the environment asks for."""
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def cli_run(*args, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([*BENCHBENCH, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def spawn(*args, cwd=None) -> subprocess.Popen:
    # SIGINT at its default in the child even when this test runs where it is ignored (a background job)
    return subprocess.Popen([*BENCHBENCH, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_rows(run_dir: Path, n: int, proc: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = run_dir / results.ROWS
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no row after {timeout} s")


def expected_keys(suite_path, smoke=False) -> set:
    return {(c.config_id, r) for c in suites.load(suite_path).expand(smoke=smoke) for r in range(c.repeats)}


def keys(rows) -> list:
    return [(r["config_id"], r["repeat"]) for r in rows]


def processes_mentioning(marker: str) -> list:
    return [p for p in psutil.process_iter(["cmdline"]) if any(marker in a for a in (p.info["cmdline"] or []))]


# ------------------------------------------------------------------ end to end: quickstart


def check_complete_run(run_dir: Path, proc: subprocess.CompletedProcess, smoke: bool):
    assert proc.returncode == 0, proc.stderr
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
    rows = results.read_rows(run_dir)
    assert sorted(keys(rows)) == sorted(expected_keys(QUICKSTART, smoke)) and len(rows) == len(set(keys(rows)))
    assert {r["status"] for r in rows} == {"ok"}, [r.get("reason") for r in rows]
    assert all(r["tokens_per_s"] > 0 and r["suite"] == "quickstart" for r in rows)
    run = results.read_json(run_dir / "run.json")
    suite = suites.load(QUICKSTART)
    assert (run["smoke"], run["interrupted"], run["suite_sha256"]) == (smoke, False, suite.sha256)
    assert run["baseline_config_id"] == suite.baseline_id(smoke=smoke)
    assert run["config_ids"] == [c.config_id for c in suite.expand(smoke=smoke)]
    assert (run_dir / "suite.yaml").read_text() == QUICKSTART.read_text()
    env = results.read_json(run_dir / "env.json")
    assert env["torch_version"] and env["cpu_count"] >= 1
    assert len(results.load(run_dir)) == len(rows)
    # the table, on stdout
    assert f"quickstart ({run_dir})" in proc.stdout
    for text in ("attention", "checkpointing", "tokens_per_s", "- (base)" if smoke else "1.00x (base)", "eager", "sdpa",
                 "full"):
        assert text in proc.stdout, text
    assert ("SMOKE" in proc.stdout) == smoke and all(bool(r.get("smoke")) == smoke for r in rows)
    assert all(r.get("torch_threads", 0) >= 1 for r in rows)  # the workers' torch threads, recorded
    assert proc.stdout.count(" ok ") >= 4
    assert f"statuses: {{'ok': {len(rows)}}}" in proc.stderr


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("quickstart") / "smoke"
    proc = cli_run("run", QUICKSTART, "--smoke", "-o", run_dir, cwd=run_dir.parent)
    return run_dir, proc


def test_quickstart_smoke(smoke_run):
    run_dir, proc = smoke_run
    check_complete_run(run_dir, proc, smoke=True)
    assert not (run_dir.parent / "results").exists()  # -o: nothing under the default results root


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("BENCHBENCH_SLOW"), reason="about a minute on an idle 2-core CPU; BENCHBENCH_SLOW=1 runs it")
def test_quickstart_full(tmp_path):
    run_dir = tmp_path / "full"
    proc = cli_run("run", QUICKSTART, "-o", run_dir, "-q", cwd=tmp_path, timeout=900)
    check_complete_run(run_dir, proc, smoke=False)
    rows = results.read_rows(run_dir)
    assert sorted({r["repeat"] for r in rows}) == [0, 1] and {r["measured_steps"] for r in rows} == {20}


def test_table_command(smoke_run, capsys):
    run_dir, _ = smoke_run
    assert cli.main(["table", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert f"quickstart ({run_dir})" in out and "- (base)" in out and "SMOKE" in out  # a smoke run: no speedups
    assert out.count(" ok ") == 4


def test_same_output_directory_twice_is_refused(smoke_run, capsys):
    run_dir, _ = smoke_run
    before = (run_dir / results.ROWS).read_bytes()
    assert cli.main(["run", str(QUICKSTART), "--smoke", "-o", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {run_dir} already holds a run; continue it with: benchbench run --resume {run_dir}\n"
    assert (run_dir / results.ROWS).read_bytes() == before


# ------------------------------------------------------------------ the parent killed, then --resume


def test_resume_after_the_parent_is_killed(tmp_path):
    suite = FIXTURES / "steady.yaml"
    run_dir = tmp_path / "run"
    proc = spawn("run", suite, "-o", run_dir, "-q", cwd=tmp_path)
    try:
        wait_for_rows(run_dir, 1, proc)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()  # SIGKILL: no cleanup at all
        proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], "a worker outlived the killed parent"
    before = results.read_rows(run_dir)
    assert 1 <= len(before) < 4
    assert not (run_dir / "results.parquet").exists()

    resumed = cli_run("run", "--resume", run_dir, "-q", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"steady: 2 configs, {4 - len(before)} runs to do -> {run_dir}" in resumed.stderr
    rows = results.read_rows(run_dir)
    assert rows[: len(before)] == before  # what was recorded stays as it was
    assert len(keys(rows)) == len(set(keys(rows))) == 4  # every (config, repeat) exactly once
    assert set(keys(rows)) == expected_keys(suite)
    assert {r["status"] for r in rows} == {"ok"}
    assert (run_dir / "results.parquet").is_file() and (run_dir / "results.csv").is_file()
    run = results.read_json(run_dir / "run.json")
    assert run["interrupted"] is False and "finished_at" in run


def test_resume_of_a_finished_run_records_nothing(smoke_run, capsys):
    run_dir, _ = smoke_run
    before = (run_dir / results.ROWS).read_bytes()
    assert cli.main(["run", "--resume", str(run_dir), "-q"]) == 0
    assert "quickstart: 4 configs, 0 runs to do" in capsys.readouterr().err
    assert (run_dir / results.ROWS).read_bytes() == before


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_stops_with_130_and_keeps_the_rows(tmp_path):
    run_dir = tmp_path / "run"
    proc = spawn("run", FIXTURES / "interrupt.yaml", "-o", run_dir, "-q", cwd=tmp_path)
    try:
        wait_for_rows(run_dir, 1, proc)  # the first config is done; the second hangs
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert f"interrupted: finished runs are recorded; continue with: benchbench run --resume {run_dir}" in err
    assert "Traceback" not in err
    rows = results.read_rows(run_dir)
    assert [(r["model_size"], r["status"]) for r in rows] == [("ok", "ok")]
    assert results.read_json(run_dir / "run.json")["interrupted"] is True
    assert "interrupt (" in out  # the table of what finished
    deadline = time.monotonic() + 10
    while processes_mentioning(str(run_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(run_dir)) == []  # the hanging worker was killed


# ------------------------------------------------------------------ bad input: exit 2, the message, nothing written

MALFORMED = {
    "typo.yaml": ("""
        name: typo
        model: {name: gpt}
        sweep:
          precision: [fp32, fp4]
        """, ["{p}:4: sweep.precision[1]: 'fp4' is not allowed; allowed: fp32, tf32, fp16, bf16, bf16-pure, fp8"]),
    "markup.yaml": ("""
        name: markup
        model: {name: gpt}
        sweep:
          attention: ["[/bold]", "[red]x"]
        """, ["{p}:4: sweep.attention[0]: '[/bold]' is not allowed; allowed: eager, sdpa, flash, mem_efficient, cudnn, flex",
              "{p}:4: sweep.attention[1]: '[red]x' is not allowed; allowed: eager, sdpa, flash, mem_efficient, cudnn, flex"]),
    "yaml.yaml": ("""
        name: yaml
        model: {name: gpt
        """, ["{p}:3: not valid YAML: expected ',' or '}}', but got '<stream end>' (while parsing a flow mapping that starts on line 2)"]),
    "size.yaml": ("""
        name: size
        model: {name: gpt, size: 7b}
        defaults: {device: cpu}
        """, ["{p}:2: model.size: unknown size '7b' for model gpt; allowed: tiny, 124m, 350m, 774m, 1.5b"]),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_suite_in_process(tmp_path, capsys, name):
    text, expected = MALFORMED[name]
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    root = tmp_path / "results"
    assert cli.main(["run", str(path), "--results-root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: {m.format(p=path)}" for m in expected]
    assert captured.out == ""
    assert not root.exists()


def test_malformed_suite_real_process(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nmodel: {name: gpt}\nswep:\n  precision: [fp32]\n")
    proc = cli_run("run", path, "--results-root", tmp_path / "results", cwd=tmp_path)
    assert proc.returncode == 2
    allowed = ", ".join(suites.TOP_KEYS)
    assert proc.stderr == f"error: {path}:3: swep: unknown top-level key 'swep' (did you mean 'sweep'?); allowed: {allowed}\n"
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # no results/, no run directory


@pytest.mark.parametrize("argv,message", [
    (["run"], "name a suite file (e.g. suites/quickstart.yaml) or --resume RUN_DIR"),
    (["run", "{q}", "--resume", "{t}"], "--resume continues a run with the suite and options it started with; drop SUITE"),
    (["run", "--resume", "{t}", "--smoke", "--device", "cpu"],
     "--resume continues a run with the suite and options it started with; drop --smoke, --device"),
    (["run", "--resume", "{t}"], "{t}: not a benchbench run directory (needs run.json and suite.yaml)"),
    (["run", "{t}/missing.yaml"], "{t}/missing.yaml: cannot read suite file: No such file or directory"),
    (["table", "{t}"], "{t}: not a run directory (no rows.jsonl)"),
])
def test_bad_arguments(tmp_path, capsys, argv, message):
    fill = {"q": QUICKSTART, "t": tmp_path}
    assert cli.main([a.format(**fill) for a in argv]) == 2
    assert capsys.readouterr().err == f"error: {message.format(**fill)}\n"
    assert list(tmp_path.iterdir()) == []


def test_output_path_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["run", str(QUICKSTART), "--smoke", "-o", str(blocker / "run")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {blocker / 'run'}: cannot create the run directory: ")


def test_gpu_suite_on_a_cpu_asks_first(tmp_path, capsys):
    from benchbench.worker.device import cuda_available

    if cuda_available():
        pytest.skip("this machine has a GPU")
    root = tmp_path / "results"
    assert cli.main(["run", str(REPO / "suites" / "amp.yaml"), "--results-root", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: suite 'amp' is meant for a GPU (device: cuda) and this machine has none.\n")
    assert "--smoke" in err and "--device cpu" in err
    assert not root.exists()


# ------------------------------------------------------------------ list


@pytest.mark.parametrize("what,expected", [
    ("suites", ["quickstart", "amp", "attention"]),
    ("models", ["gpt", "124m", "py:<module>"]),
    ("axes", ["precision", "bf16-pure", "batch_size", "micro-batch per rank"]),
])
def test_list(capsys, what, expected):
    assert cli.main(["list", what]) == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_list_suites_shows_invalid_ones(tmp_path, capsys, monkeypatch):
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "broken.yaml").write_text("name: broken\nmodel: {name: gpt}\nsweep: {attention: ['[/x]']}\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["list", "suites"]) == 0
    out = capsys.readouterr().out
    assert "invalid" in out and "'[/x]' is not allowed" in out and "quickstart" in out


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code == 2


def test_internal_error_is_exit_3_without_traceback(monkeypatch, capsys, tmp_path):
    from benchbench.commands import run as run_command

    def broken(args):
        raise RuntimeError("a bug [/here]")

    monkeypatch.setattr(run_command, "main", broken)
    monkeypatch.delenv("BENCHBENCH_DEBUG", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cli.main(["run", str(QUICKSTART)]) == 3
    err = capsys.readouterr().err
    (log,) = tmp_path.glob("benchbench-internal-error-*.log")  # the traceback, for the bug report
    assert err == (f"internal error: RuntimeError: a bug [/here] (its traceback is in {log}; a bug in benchbench: "
                   "please report it)\n")
    assert "Traceback" in log.read_text() and "in broken" in log.read_text()


def test_env_has_pythonpath_for_fixture_models():
    assert str(REPO) in os.environ["PYTHONPATH"].split(os.pathsep)


def test_profile_and_pyspy_flags(tmp_path):
    """--profile adds a trace per config; --pyspy records stacks (or says why it could not)."""
    out = tmp_path / "run"
    proc = cli_run("run", "suites/quickstart.yaml", "--smoke", "--profile", "--pyspy", "-q", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = results.read_rows(out)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    for r in rows:
        assert (out / r["profile_trace"]).is_file() and r["profile_share_matmul"] > 0
        assert r.get("pyspy_speedscope") or r.get("pyspy_reason")
    assert results.read_json(out / "run.json")["overrides"] == {"profile": True, "pyspy": True}


def test_numerics_check_through_the_cli(tmp_path):
    run_dir = tmp_path / "numerics"
    p = cli_run("run", FIXTURES / "numerics.yaml", "-o", run_dir, "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = results.read_rows(run_dir)
    assert len(rows) == 4 and {r["numerics"] for r in rows} == {"ok"}
    assert all(len(r["numerics_losses"]) == 10 and r["numerics_steps"] == 10 for r in rows)
    assert all("precision=fp32, attention=eager" in r["numerics_reference_config"] for r in rows)
    assert len({r["config_id"] for r in rows}) == 4


def test_maxbatch_through_the_cli(tmp_path):
    """A fake memory limit (the fixture model runs out of memory above batch 5): every probe its
    own worker, the answer and the probes stored."""
    suite = tmp_path / "mb.yaml"
    suite.write_text("name: mb\nmodel: {name: 'py:tests.fixtures.faulty_model', size: limit, max_batch: 5}\n"
                     "defaults: {device: cpu, batch_size: 4, warmup_steps: 1, measured_steps: 2, collect: []}\n")
    p = cli_run("maxbatch", suite, "-o", tmp_path / "run", cwd=REPO)
    assert p.returncode == 0, p.stderr
    answer = json.loads((tmp_path / "run" / "maxbatch.json").read_text())["configs"][0]
    assert answer["max_batch"] == 5 and answer["trail"] == ["4:ok", "8:oom", "6:oom", "5:ok"] and answer["probes"] == 4
    assert answer["samples_per_s"] > 0
    rows = results.read_rows(tmp_path / "run")
    assert [(r["batch_size"], r["status"]) for r in rows] == [(4, "ok"), (8, "oom"), (6, "oom"), (5, "ok")]
    assert "largest micro-batch per config" in p.stdout and "4:ok 8:oom 6:oom 5:ok" in p.stdout


def test_maxbatch_bad_input(tmp_path):
    p = cli_run("maxbatch", tmp_path / "missing.yaml")
    assert p.returncode == 2 and "cannot read suite file" in p.stderr
    p = cli_run("maxbatch", QUICKSTART, "--cap", "0", "-o", tmp_path / "x")
    assert p.returncode == 2 and "--cap: '0'" in p.stderr


def test_maxbatch_of_a_gpu_suite_without_a_gpu_says_so(tmp_path, monkeypatch, capsys):
    from benchbench.worker import device

    monkeypatch.setattr(device, "cuda_available", lambda: False)
    suite = REPO / "bench" / "maxbatch" / "suite.yaml"  # device: cuda
    assert cli.main(["maxbatch", str(suite), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "meant for a GPU" in err and "--device cpu" in err and not (tmp_path / "run").exists()


def test_estimate_through_the_cli():
    p = cli_run("estimate", REPO / "bench" / "maxbatch" / "suite.yaml", "--device-memory", "16")
    assert p.returncode == 0, p.stderr
    assert "predicted peak memory per rank (GiB), GPU of 16.0 GiB" in p.stdout
    assert "model_size=350m, precision=fp32, checkpointing=none" in p.stdout and "no (" in p.stdout  # 21.3 GiB
    assert "model_size=124m, precision=bf16, checkpointing=full" in p.stdout and "yes" in p.stdout
    p = cli_run("estimate", QUICKSTART, "--device-memory", "-1")
    assert p.returncode == 2 and "--device-memory: '-1'" in p.stderr
