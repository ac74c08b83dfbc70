"""SIGTERM and SIGINT in `history add|import`, `report` and `maxbatch`: each command is held at a chosen
point (a patched function waits for a file, or a worker tells its pid through one), never after a sleep.
Then: exit 130/143 with one line saying what was kept, nothing half-written, no child left running; a
signal during a history transaction waits for its commit (the run is in the history, whole)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchbench.store import history, results
from tests.fixtures import runs

REPO = Path(__file__).resolve().parents[2]
# the command, held in `target` (its first call) until the test has sent its signal and made `go`
DRIVER = """\
import importlib, sys, time
from pathlib import Path
marker, go, target = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
module, name = target.rsplit(".", 1)
mod = importlib.import_module(module)
real, calls = getattr(mod, name), []
def held(*a, **k):
    calls.append(1)
    if len(calls) == 1:
        marker.write_text("")
        deadline = time.monotonic() + 300
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    return real(*a, **k)
setattr(mod, name, held)
from benchbench import cli
sys.exit(cli.main(sys.argv[4:]))
"""
SIGNALS = [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted")]


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout  # a safety net only: the command reaches the point in seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the command never reached the held point"
        time.sleep(0.02)


def _start(argv, env=None, cwd=None, target=None, tmp=None):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), **(env or {})}
    head = [sys.executable, "-c", DRIVER, tmp / "held", tmp / "go", target] if target else \
           [sys.executable, "-m", "benchbench.cli"]
    return subprocess.Popen([*map(str, head), *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _held_then_signalled(tmp, sig, argv, target):
    proc = _start(argv, target=target, tmp=tmp)
    try:
        _wait_for(tmp / "held", proc)
        proc.send_signal(sig)
        (tmp / "go").write_text("")
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert "Traceback" not in err and "internal error" not in err, err
    return proc.returncode, err


@pytest.mark.parametrize("sig,code,said", SIGNALS, ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_the_history_transaction_waits_for_its_commit(good_run, tmp_path, sig, code, said):
    db = tmp_path / "h.duckdb"
    rc, err = _held_then_signalled(tmp_path, sig, ["history", "add", good_run, "--history-db", db],
                                   "benchbench.store.history._frame")  # between BEGIN and COMMIT
    assert rc == code and f"history {said}" in err, err
    got = history.runs(db)
    assert len(got) == 1 and set(history.results(db)["repeats"]) == {3}


@pytest.mark.parametrize("sig,code,said", SIGNALS, ids=["SIGTERM", "SIGINT"])
def test_a_signal_before_the_history_transaction_adds_nothing(good_run, tmp_path, sig, code, said):
    db = tmp_path / "h.duckdb"
    assert subprocess.run([sys.executable, "-m", "benchbench.cli", "history", "add", good_run, "--history-db", db],
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300).returncode == 0
    before = history.runs(db)
    other = runs.write_run(tmp_path / "other", runs.config("cccccccccccc", 0.2), sha="def")
    rc, err = _held_then_signalled(tmp_path, sig, ["history", "add", other, "--history-db", db],
                                   "benchbench.analysis.series.run_record")  # reading the run, before any write
    assert rc == code and f"history {said}" in err and "run the command again" in err, err
    assert history.runs(db)["run_key"].tolist() == before["run_key"].tolist()


def test_sigterm_during_an_import_waits_for_its_commit(good_run, tmp_path):
    db, shared = tmp_path / "h.duckdb", tmp_path / "shared"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for argv in (["add", good_run], ["export", shared]):
        assert subprocess.run([sys.executable, "-m", "benchbench.cli", "history", *argv, "--history-db", db],
                              capture_output=True, env=env, timeout=300).returncode == 0
    target = tmp_path / "target.duckdb"
    rc, err = _held_then_signalled(tmp_path, signal.SIGTERM, ["history", "import", shared, "--history-db", target],
                                   "benchbench.store.history._check_export")
    assert rc == 143 and "history terminated (SIGTERM)" in err, err
    assert len(history.runs(target)) == 1


@pytest.mark.parametrize("sig,code,said", SIGNALS, ids=["SIGTERM", "SIGINT"])
def test_a_signal_as_the_report_is_about_to_replace_the_old_one(good_run, tmp_path, sig, code, said):
    out = tmp_path / "report.md"
    out.write_text("the old report\n")
    # os.fsync: the new report is whole in its temporary file, not yet renamed over the old one
    rc, err = _held_then_signalled(tmp_path, sig, ["report", good_run, "--format", "markdown", "-o", out], "os.fsync")
    assert rc == code and f"report {said}" in err, err
    assert out.read_text() == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go", "good", "held", "report.md"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig,code,said", SIGNALS, ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_a_maxbatch_probe_runs_ends_it(tmp_path, sig, code, said):
    suite, run_dir, pid_file = tmp_path / "mb.yaml", tmp_path / "mb", tmp_path / "worker.pid"
    suite.write_text("name: mb\nmodel: {name: 'py:tests.fixtures.faulty_model', size: held}\n"
                     "defaults: {device: cpu, batch_size: 4, warmup_steps: 1, measured_steps: 2, timeout_s: 3000}\n")
    proc = _start(["maxbatch", suite, "-o", run_dir, "--cap", "8"], env={"FAULTY_HELD": str(pid_file)}, cwd=REPO)
    try:
        _wait_for(pid_file, proc)  # the probe's worker is building the model
        worker = int(pid_file.read_text())
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == code and f"maxbatch {said}" in err and "Traceback" not in err, err
    assert "run it again" in err
    assert not _alive(worker)
    run = json.loads((run_dir / "run.json").read_text())
    assert run.get("finished_at") and run.get("interrupted") is True, run
    assert json.loads((run_dir / "maxbatch.json").read_text())["configs"] == []
    assert not (run_dir / results.ROWS).exists()  # the only probe never finished: no row, not a partial one
    assert not [p for p in run_dir.rglob(".*.tmp*")]
