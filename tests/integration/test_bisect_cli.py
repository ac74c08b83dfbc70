"""`benchbench bisect` through the real command line on a small git repository made here
(tests/fixtures/history_repo.py: the `py:` model does 4x the work from commit 6 of 12 on, and sleeps a planted
0.3 s a step, so no load on the machine decides a probe's verdict). Bad input
(a missing, non-git or dirty repository, unknown revisions, reversed ends, an unknown config): exit 2 and
no probe. The real bisection (slow: every probe is a real run) names commit 6 and leaves the checkout as it
was; `history regressions` then lists it."""

import math
import os
import subprocess
import sys

import pytest

from benchbench.spec import suite as suites
from tests.fixtures import history_repo
from tests.integration.test_cli import BENCHBENCH, plain_output  # noqa: F401
from tests.integration.test_history_cli import cli_run


def bb(*args, cwd, timeout=900):
    # one thread per worker: on a loaded 2-core machine two threads wait on each other and steps stall
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*BENCHBENCH, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("bisect-cli")
    repo, commits, suite = history_repo.make(root, pause_s=0.3)
    sys.path.insert(0, str(repo))  # the suite's py: model is the repository's (bisect looks there itself)
    try:
        cid = suites.load(suite).expand()[0].config_id
    finally:
        sys.path.remove(str(repo))
        sys.modules.pop("histmodel", None)
    return root, repo, commits, suite, cid


@pytest.mark.parametrize("change,message", [
    ({"repo": "missing"}, "no such directory"),
    ({"repo": "outside"}, "not a git repository"),
    ({"good": "nope"}, "revision 'nope' does not exist"),
    ({"bad": "v9.9"}, "revision 'v9.9' does not exist"),
    ({"good": -1, "bad": 0}, "is not an ancestor"),
    ({"config": "zzz"}, "--config zzz: not a config"),
])
def test_bad_input_exits_2_before_any_probe(project, change, message):
    root, repo, commits, suite, cid = project
    (root / "outside").mkdir(exist_ok=True)
    good = change.get("good", 0)
    bad = change.get("bad", -1)
    args = ["bisect", suite, "--config", change.get("config", cid),
            "--good", commits[good] if isinstance(good, int) else good,
            "--bad", commits[bad] if isinstance(bad, int) else bad,
            "--repo", root / change.get("repo", "project"), "-o", root / "probes", "--history-db", root / "h.duckdb"]
    p = cli_run(*args, cwd=repo)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (root / "probes").exists() and not (root / "h.duckdb").exists()


def test_a_dirty_repository_is_refused(project):
    root, repo, commits, suite, cid = project
    model = repo / "histmodel.py"
    text = model.read_text()
    model.write_text(text + "\n# an uncommitted edit\n")
    try:
        p = cli_run("bisect", suite, "--config", cid, "--good", commits[0], "--bad", commits[-1], "-o", root / "probes",
                    cwd=repo)
    finally:
        model.write_text(text)
    assert p.returncode == 2 and "uncommitted changes (histmodel.py)" in p.stderr
    assert not (root / "probes").exists()


@pytest.mark.slow
def test_bisect_names_the_commit_and_history_lists_it(project):
    root, repo, commits, suite, cid = project
    db, out = root / "real.duckdb", root / "real-probes"
    p = bb("bisect", suite, "--config", cid, "--good", commits[0], "--bad", "HEAD", "-o", out, "--history-db", db,
           cwd=repo)
    assert p.returncode == 0, p.stdout + p.stderr
    k = history_repo.K
    assert f"first bad commit: {commits[k]} commit {k} (4x wider)" in p.stdout
    probes = sorted(out.glob("probe-*/rows.jsonl"))
    assert len(probes) <= math.ceil(math.log2(history_repo.N_COMMITS)) + 1, p.stdout
    # the checkout is as it was: same HEAD, no changes, no worktree left
    assert history_repo.git(repo, "rev-parse", "HEAD") == commits[-1]
    assert history_repo.git(repo, "status", "--porcelain") == ""
    assert len(history_repo.git(repo, "worktree", "list").splitlines()) == 1
    # every probe is in the history; the probes are too sparse for a change point there (a step needs
    # changepoints.MIN_SEGMENT commits on each side), so regressions flags none rather than a guess
    r = bb("history", "show", "--history-db", db, "--config", cid, "--format", "csv", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(c in r.stdout for c in (commits[0], commits[k - 1], commits[k])), r.stdout
    r = bb("history", "regressions", "--history-db", db, "--format", "csv", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr


def test_bisect_smoke_is_refused_with_the_reason(project):
    root, repo, commits, suite, cid = project
    p = cli_run("bisect", suite, "--config", cid, "--smoke", "--good", commits[0], "--bad", commits[-1],
                "-o", root / "smoke-probes", "--history-db", root / "smoke.duckdb", cwd=repo)
    assert p.returncode == 2 and "bisect --smoke" in p.stderr and "smoke: {repeats: 3}" in p.stderr, p.stderr
    assert not (root / "smoke-probes").exists()


@pytest.mark.parametrize("sig,code,said", [("SIGTERM", 143, "terminated (SIGTERM)"), ("SIGINT", 130, "interrupted")])
def test_a_signal_ends_the_probes_children_and_removes_the_worktree(project, sig, code, said):
    import signal
    import time

    import psutil

    root, repo, commits, suite, cid = project
    out = root / f"{sig}-probes"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([*BENCHBENCH, "bisect", str(suite), "--config", cid, "--good", commits[0], "--bad", commits[-1],
                          "--setup", "sleep 600", "-o", str(out), "--history-db", str(root / f"{sig}.duckdb")],
                         cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # even as a background job
    log = out / f"probe-1-{commits[0][:12]}.log"
    deadline = time.monotonic() + 300  # a generous bound on reaching the setup, never a measurement
    while not (log.exists() and "$ sleep 600" in log.read_text()) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert p.poll() is None, p.communicate()
    children = psutil.Process(p.pid).children(recursive=True)
    assert len(history_repo.git(repo, "worktree", "list").splitlines()) == 2  # the probe's worktree
    p.send_signal(getattr(signal, sig))
    _, err = p.communicate(timeout=120)
    assert p.returncode == code and f"bisect {said}" in err and "Traceback" not in err, err
    assert len(history_repo.git(repo, "worktree", "list").splitlines()) == 1  # no worktree left
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, alive
