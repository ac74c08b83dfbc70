"""history add/show/regressions/export/import and gate --history through the real command line, on run
directories of synthetic rows (tests/fixtures/runs.py: chosen step times, so every verdict is certain):
a history of 20 commits whose throughput drops 10% at commit 10. Bad input: exit 2, nothing written."""

import contextlib
import io
import json
import os
import re
import subprocess
from types import SimpleNamespace

import duckdb
import pytest

from benchbench import cli
from benchbench.store import history
from tests.fixtures.runs import CPU_ENV, config, write_run
from tests.integration.test_cli import BENCHBENCH, QUICKSTART, plain_output  # noqa: F401

N, K = 20, 10


def cli_run(*args, cwd=None):
    """The command line in this process (what `benchbench ARGS` does, without a second interpreter's imports):
    exit code, stdout and stderr. `run` and the concurrent adds go through real processes."""
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = cli.main([str(a) for a in args])
    finally:
        os.chdir(here)
    return SimpleNamespace(returncode=rc, stdout=out.getvalue(), stderr=err.getvalue())


def commit(i: int) -> str:
    return f"{i:02d}" + "ab" * 19


def make_run(root, i: int, slow: float = 1.0, env: dict | None = None, name: str | None = None):
    d = root / (name or f"run-{i:02d}")
    if d.exists():
        return d
    rows = [*config("c1", 0.02 * (slow if i >= K else 1.0), seed=i, attention="eager"),
            *config("c2", 0.015, seed=100 + i, attention="sdpa")]
    write_run(d, rows, env={**CPU_ENV, "git_commit": commit(i), "git_branch": "main",
                            "git_commit_time": f"2026-01-01T00:{i:02d}:00+00:00", **(env or {})}, suite="gate")
    return d


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    root = tmp_path_factory.mktemp("hist")
    runs = [make_run(root, i, slow=1.1) for i in range(N)]
    db = root / "h.duckdb"
    p = cli_run("history", "add", *runs, "--history-db", db)
    assert p.returncode == 0, p.stderr
    return root, runs, db


def test_add_twice_changes_nothing(filled):
    root, runs, db = filled
    before = (len(history.runs(db)), len(history.repeat_values(db)))
    p = cli_run("history", "add", runs[0], runs[1], "--history-db", db)
    assert p.returncode == 0 and p.stderr.count("unchanged:") == 2
    assert (len(history.runs(db)), len(history.repeat_values(db))) == before == (N, N * 2 * 3 * 4)  # 2 configs x 3 repeats x 4 metrics


def test_regressions_name_the_commit_and_exit_1(filled):
    root, runs, db = filled
    p = cli_run("history", "regressions", "--history-db", db, "--format", "csv")
    assert p.returncode == 1, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{commit(K)},{commit(K - 1)},c1,")
    assert "regression" in lines[1] and "1 regressions" in p.stderr
    p = cli_run("history", "regressions", "--history-db", db, "--since", commit(K)[:8])
    assert p.returncode == 0 and "0 change points" in p.stderr
    p = cli_run("history", "regressions", "--history-db", db, "--since", commit(K - 1)[:8], "--metric", "step_time_s")
    assert p.returncode == 1 and commit(K)[:12] in p.stdout


def test_show_prints_a_trend_per_config_with_the_change_point(filled):
    root, runs, db = filled
    p = cli_run("history", "show", "--history-db", db, "--config", "c1", "--format", "markdown")
    assert p.returncode == 0, p.stderr
    rows = [r for r in p.stdout.splitlines() if r.startswith("| c1")]
    assert len(rows) == N and "-9." in rows[K] and rows[K].split("|")[3].strip() == commit(K)[:12]
    assert all(r.rstrip(" |").endswith("|") or "%" not in r.split("|")[-2] for r in rows[:K])
    p = cli_run("history", "show", "--history-db", db, "--where", "attention=sdpa", "--format", "csv")
    assert p.returncode == 0 and {line.split(",")[0] for line in p.stdout.splitlines()[1:]} == {"c2"}
    p = cli_run("history", "show", "--history-db", db)
    assert p.returncode == 0 and "tokens_per_s on ci: CPU" in p.stdout


@pytest.mark.parametrize("args,message", [
    (["show", "--metric", "nope"], "metric 'nope' is not in the history"),
    (["show", "--config", "zzz"], "config zzz is not in the history"),
    (["show", "--where", "colour=red"], "'colour' is not a setting"),
    (["regressions", "--since", "deadbeef"], "revision 'deadbeef': no such commit"),
])
def test_bad_queries_exit_2(filled, args, message):
    root, runs, db = filled
    p = cli_run("history", *args, "--history-db", db, cwd=root)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


def test_not_a_run_directory_writes_nothing(filled, tmp_path):
    root, runs, db = filled
    (tmp_path / "empty").mkdir()
    for bad in (tmp_path / "empty", tmp_path / "missing", QUICKSTART):
        p = cli_run("history", "add", runs[0], bad, "--history-db", tmp_path / "new.duckdb")
        assert p.returncode == 2 and str(bad) in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "new.duckdb").exists()


def test_a_corrupted_or_newer_store_exits_2_and_is_left_alone(filled, tmp_path):
    root, runs, db = filled
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"garbage" * 1000)
    for cmd in (["add", runs[0]], ["show"], ["regressions"]):
        p = cli_run("history", *cmd, "--history-db", bad)
        assert p.returncode == 2 and "not a readable history store" in p.stderr, p.stderr
    assert bad.read_bytes() == b"garbage" * 1000
    newer = tmp_path / "newer.duckdb"
    history.add(newer, [])
    con = duckdb.connect(str(newer))
    con.execute("UPDATE meta SET value = '7' WHERE key = 'history_version'")
    con.close()
    p = cli_run("history", "add", runs[0], "--history-db", newer)
    assert p.returncode == 2 and "written by a newer benchbench" in p.stderr
    con = duckdb.connect(str(newer), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    con.close()


def test_two_adds_at_once_both_land(filled, tmp_path):
    root, runs, db = filled
    target = tmp_path / "both.duckdb"
    procs = [subprocess.Popen([*BENCHBENCH, "history", "add", *map(str, part), "--history-db", str(target)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for part in (runs[:10], runs[10:])]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert len(history.runs(target)) == N


def test_export_and_import_through_a_shared_folder(filled, tmp_path):
    root, runs, db = filled
    shared = tmp_path / "shared"
    assert cli_run("history", "export", shared, "--history-db", db).returncode == 0
    p = cli_run("history", "import", shared, "--history-db", tmp_path / "central.duckdb")
    assert p.returncode == 0 and f"imported {N} runs" in p.stderr
    p = cli_run("history", "regressions", "--history-db", tmp_path / "central.duckdb")
    assert p.returncode == 1 and commit(K)[:12] in p.stdout
    p = cli_run("history", "import", tmp_path / "nothing-here", "--history-db", tmp_path / "central.duckdb")
    assert p.returncode == 2 and "no such folder" in p.stderr


def test_gate_against_the_history(filled, tmp_path):
    root, runs, db = filled
    same = make_run(tmp_path, N, slow=1.1, name="same")           # as fast as the last commits
    slower = make_run(tmp_path, N, slow=1.1 * 1.08, name="slower")  # 8% slower than them
    p = cli_run("gate", same, "--history", db, "--window", "8")
    assert p.returncode == 0, p.stdout + p.stderr
    p = cli_run("gate", slower, "--history", db, "--window", "8")
    assert p.returncode == 1 and "regression: tokens_per_s c1" in p.stderr.replace("attention=eager", "c1"), p.stderr
    other = make_run(tmp_path, N, env={"hostname": "elsewhere"}, name="other")
    p = cli_run("gate", other, "--history", db)
    assert p.returncode == 2 and "no run of this machine" in p.stderr
    p = cli_run("gate", same, "--history", db, "--baseline", "x.json")
    assert p.returncode == 2 and "one of the two" in p.stderr


def test_regressions_report_a_slow_drift_and_exit_1(tmp_path):
    runs = []
    for i in range(16):   # the step time creeps 0.5% a commit: 7.5% over 16, no step
        d = tmp_path / f"run-{i:02d}"
        write_run(d, config("c1", 0.02 * (1 + 0.005 * i), seed=i, attention="eager"),
                  env={**CPU_ENV, "git_commit": commit(i), "git_branch": "main",
                       "git_commit_time": f"2026-01-01T00:{i:02d}:00+00:00"}, suite="gate")
        runs.append(d)
    db = tmp_path / "drift.duckdb"
    assert cli_run("history", "add", *runs, "--history-db", db).returncode == 0
    p = cli_run("history", "regressions", "--history-db", db)
    assert p.returncode == 1 and "0 change points" in p.stderr, p.stderr
    line = next(x for x in p.stderr.splitlines() if x.startswith("drift: "))
    assert "(c1)" in line and "over 16 commits" in line and line.endswith("a regression")
    p = cli_run("history", "show", "--history-db", db, "--format", "csv")
    assert p.returncode == 0 and line in p.stderr and len(p.stdout.strip().splitlines()) == 17


def test_gate_with_too_little_history_is_inconclusive_not_pass(filled, tmp_path):
    root, runs, db = filled
    small = tmp_path / "small.duckdb"
    assert cli_run("history", "add", runs[0], runs[1], "--history-db", small).returncode == 0
    same = make_run(tmp_path, N, name="same")
    md = tmp_path / "gate.md"
    p = cli_run("gate", same, "--history", small, "--markdown", md)
    assert p.returncode == 4 and "gate: INCONCLUSIVE: nothing judged: too little history" in p.stderr, p.stderr
    assert "PASS" not in p.stderr and "INCONCLUSIVE** - nothing judged" in md.read_text()


def test_run_with_history_adds_the_finished_run(tmp_path):
    from benchbench.spec import suite as suites
    from tests.integration.test_cli import FIXTURES

    steady = FIXTURES / "steady.yaml"
    cid = suites.load(steady).expand()[0].config_id
    db = tmp_path / "h.duckdb"
    from tests.integration.test_cli import cli_run as real_cli_run

    p = real_cli_run("run", steady, "--config", cid, "-o", tmp_path / "r", "-q", "--history", db)
    assert p.returncode == 0 and "history: added" in p.stderr, p.stderr
    r = history.results(db)
    assert set(r["config_id"]) == {cid} and json.loads((tmp_path / "r" / "run.json").read_text())["only"] == [cid]
    p = real_cli_run("run", steady, "--config", "nope", "-o", tmp_path / "r2")
    assert p.returncode == 2 and "--config nope: not a config of this suite" in p.stderr


def test_report_with_history_has_a_trend_per_config(filled, tmp_path):
    root, runs, db = filled
    p = cli_run("report", runs[-1], "--history", db, "-o", tmp_path / "r.html")
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "r.html").read_text()
    assert "Over commits" in html and 'id="fig-trend-c1"' in html and 'id="fig-trend-c2"' in html
    assert re.search(r'"text":"-(8|9)\.\d%"', html)  # the change point's step, on its line (10% slower steps)
    p = cli_run("report", runs[-1], "--history", tmp_path / "none.duckdb", "-o", tmp_path / "r2.html")
    assert p.returncode == 2 and "no history there" in p.stderr and not (tmp_path / "r2.html").exists()
