"""`benchbench ab` through the real command line. Two suites (the same tiny suite twice): rows of every
repeat in DIR/a and DIR/b, run in the order A,B / B,A / A,B (ab.json and the sides' logs), then the
compare table with no between-run variance. Two revisions of a small git repository
(tests/fixtures/history_repo.py: the model is 4x wider from commit 6 on): each side's rows come from its own
commit's code (the model's parameter count, not a timing), the worktrees are gone afterwards and the
checkout is untouched; SIGTERM mid-run ends the child and removes the worktrees (exit 143). Bad input: exit 2
with one line, nothing run."""

import json
import os
import signal
import subprocess
import time

import pytest

from benchbench.spec import suite as suites
from tests.fixtures import history_repo
from tests.integration.test_cli import BENCHBENCH
from tests.integration.test_history_cli import cli_run

STEADY = os.path.abspath("tests/fixtures/suites/steady.yaml")


def bb(*args, cwd=None, timeout=900):
    # one thread per worker: on a loaded 2-core machine two threads wait on each other and steps stall
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*BENCHBENCH, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)


def rows(d):
    return [json.loads(line) for line in (d / "rows.jsonl").read_text().splitlines()]


def log_repeats(path):
    return [int(line.rsplit("(repeat ", 1)[1].rstrip(")")) for line in path.read_text().splitlines()
            if line.startswith("$ ") and "(repeat " in line]


def test_two_suites_interleaved(tmp_path):
    cid = suites.load(STEADY).expand()[0].config_id
    out = tmp_path / "ab"
    p = bb("ab", STEADY, STEADY, "--config", cid, "--repeats", 3, "-o", out)
    assert p.returncode == 0, p.stderr
    for side in "ab":
        got = rows(out / side)
        assert sorted((r["config_id"], r["repeat"]) for r in got) == [(cid, 0), (cid, 1), (cid, 2)]
        assert all(r["status"] == "ok" for r in got)
        assert {"run.json", "env.json", "suite.yaml"} <= {f.name for f in (out / side).iterdir()}
        assert log_repeats(out / f"{side}.log") == [0, 1, 2]
    order = [(o["side"], o["repeat"]) for o in json.loads((out / "ab.json").read_text())["order"]]
    assert order == [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    stamps = [o["finished_at"] for o in json.loads((out / "ab.json").read_text())["order"]]
    assert stamps == sorted(stamps)
    assert "samples_per_s:" in p.stdout and "3/3" in p.stdout and "between-run variance 0" in p.stdout
    assert "repeat 2/3: B" in p.stderr
    c = cli_run("compare", out / "a", out / "b", "--metric", "samples_per_s")   # the sides are ordinary runs every command reads
    assert c.returncode == 0 and "3/3" in c.stdout, c.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("ab-cli")
    repo, commits, suite = history_repo.make(root)
    return root, repo, commits, suite


def test_two_revisions_each_side_its_own_code(project):
    root, repo, commits, suite = project
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout
    out = root / "revs"
    p = bb("ab", suite, "--a-rev", commits[0], "--b-rev", "main", "--repeats", 3, "-o", out, cwd=repo)
    assert p.returncode == 0, p.stderr
    a, b = rows(out / "a"), rows(out / "b")
    assert len(a) == len(b) == 3 and all(r["status"] == "ok" for r in a + b)
    # 512 vs 2048 hidden units: the parameter counts say which commit's model each side ran
    assert {r["n_params"] for r in a} == {2 * 512 * 512 + 512 + 512}
    assert {r["n_params"] for r in b} == {2 * 512 * 2048 + 2048 + 512}
    assert json.loads((out / "a" / "env.json").read_text())["git_commit"] == commits[0]
    assert json.loads((out / "b" / "env.json").read_text())["git_commit"] == commits[-1]
    wts = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert len(wts.strip().splitlines()) == 1, wts
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout == head
    assert not subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("args,message", [
    (["SUITE", "--a-rev", "nope", "--b-rev", "main"], "revision 'nope' does not exist"),
    (["SUITE", "--a-rev", "main"], "needs both --a-rev REV and --b-rev REV"),
    (["SUITE", "SUITE", "--a-rev", "main", "--b-rev", "main"], "--a-rev/--b-rev go with one suite"),
    (["missing.yaml", "SUITE"], "missing.yaml: no such suite file"),
    (["SUITE", "OTHER"], "make different configs"),
    (["SUITE", "SUITE", "--config", "zzz"], "--config zzz: not a config"),
    (["SUITE", "SUITE", "--repeats", "2"], "--repeats 2: ab needs at least 3 repeats"),
    (["SUITE", "SUITE", "--repeats", "0"], "--repeats 0: ab needs at least 3"),
])
def test_bad_input_exits_2_before_any_run(project, args, message):
    root, repo, commits, suite = project
    other = root / "other.yaml"
    other.write_text(suite.read_text().replace("size: base}", "size: base}\nsweep: {seed: [0, 1]}"))
    out = root / "bad"
    given = [str(suite) if a == "SUITE" else str(other) if a == "OTHER" else a for a in args]
    p = cli_run("ab", *given, "-o", out, cwd=repo)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_sigterm_ends_the_child_and_removes_the_worktrees(project):
    root, repo, commits, suite = project
    out = root / "term"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([*BENCHBENCH, "ab", str(suite), "--a-rev", commits[0], "--b-rev", commits[-1], "--repeats", "3",
                          "-o", str(out)], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600   # a bound on a hang, not a timing the test depends on
        while not ((out / "a.log").exists() and "$ " in (out / "a.log").read_text()) and p.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 143 and "terminated (SIGTERM)" in err and "Traceback" not in err, err
    wts = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert len(wts.strip().splitlines()) == 1, wts
