"""sweep/bisect.py on a real small repository (tests/fixtures/history_repo.py) with the measuring replaced
by synthetic run directories (chosen step times): the first bad commit in few probes, ends that do not
differ refused, a probe judged against both ends."""

import math
import time

import numpy as np
import pytest

from benchbench.commands.bisect import JUDGE
from benchbench.sweep import bisect
from tests.fixtures import history_repo
from tests.fixtures.runs import CPU_ENV, config, write_run


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return history_repo.make(tmp_path_factory.mktemp("bisect"))


def fake_runs(commits, k, factor):
    """run_probe's stand-in: the config's steps are `factor` x slower from commit index k on."""
    def run_probe(repo, commit, suite, config_id, run_dir, setup=None, smoke=False, timeout_s=None):
        i = commits.index(commit)
        write_run(run_dir, config(config_id, 0.01 * (factor if i >= k else 1.0), seed=i),
                  env={**CPU_ENV, "git_commit": commit})
        return run_dir
    return run_probe


@pytest.mark.parametrize("k", range(1, history_repo.N_COMMITS))
def test_the_first_bad_commit_in_at_most_log2_probes(repo, tmp_path, monkeypatch, k):
    path, commits, suite = repo
    monkeypatch.setattr(bisect, "run_probe", fake_runs(commits, k, 4.0))
    seen = []
    res = bisect.bisect(path, commits[0], commits[-1], suite, "c", tmp_path, on_probe=seen.append, log=lambda m: None,
                        judge=JUDGE)
    assert res.first_bad == commits[k]
    assert len(res.probes) <= 2 + math.ceil(math.log2(len(commits) - 1)) and len(seen) == len(res.probes)
    assert res.metric == "tokens_per_s" and [p.verdict for p in res.probes[:2]] == ["good", "bad"]


def test_ends_that_do_not_differ_are_refused(repo, tmp_path, monkeypatch):
    path, commits, suite = repo
    monkeypatch.setattr(bisect, "run_probe", fake_runs(commits, 99, 4.0))
    with pytest.raises(bisect.BisectError, match="do not differ"):
        bisect.bisect(path, commits[0], commits[-1], suite, "c", tmp_path, log=lambda m: None, judge=JUDGE)


def test_classify_uses_both_ends():
    good, bad = np.array([100.0, 101, 99]), np.array([50.0, 50.5, 49.5])
    assert bisect.classify(np.array([100.0, 100.5, 99.5]), good, bad, JUDGE) == ("good", "")
    assert bisect.classify(np.array([50.0, 50.2, 49.8]), good, bad, JUDGE) == ("bad", "")
    verdict, note = bisect.classify(np.array([60.0, 60.5, 59.5]), good, bad, JUDGE)
    assert verdict == "bad" and "nearer the bad end" in note



def test_pythonpath_entries_inside_the_repository_point_into_the_worktree(tmp_path):
    import os

    repo, wt = tmp_path / "repo", tmp_path / "wt"
    (repo / "src").mkdir(parents=True)
    elsewhere = str(tmp_path / "lib")
    got = bisect.probe_pythonpath(repo, wt, os.pathsep.join([str(repo / "src"), elsewhere, str(repo)])).split(os.pathsep)
    assert got == [str(wt), str(bisect.BENCHBENCH_ROOT), str(wt / "src"), elsewhere]  # the checkout's code: never
    assert str(repo) not in got and str(repo / "src") not in got


def test_a_probe_environment_installs_into_a_throwaway_venv_that_sees_the_users_packages(tmp_path):
    import os
    import subprocess
    import sys
    import zipfile

    env = {**os.environ, **bisect.probe_venv(tmp_path / "venv")}
    py = env.pop("PYTHON")
    assert py.startswith(str(tmp_path / "venv"))
    # the user's packages are there (pandas from this interpreter's site folders)...
    check = "import sys, pandas, sysconfig; print(sys.prefix); print(sysconfig.get_paths()['purelib'])"
    prefix, purelib = subprocess.run([py, "-c", check], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert prefix == str(tmp_path / "venv")
    # ...and what a setup installs lands in the venv, even `pip install --user`, never in the user's environment
    for name, extra, lands in (("bb_probe_a", [], purelib), ("bb_probe_b", ["--user"], str(tmp_path / "venv"))):
        wheel = tmp_path / f"{name}-0-py3-none-any.whl"  # built by hand: no build backend needed
        with zipfile.ZipFile(wheel, "w") as z:
            info = f"{name}-0.dist-info"
            z.writestr(f"{name}/__init__.py", "")
            z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0\n")
            z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            z.writestr(f"{info}/RECORD", f"{name}/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")
        p = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", *extra, str(wheel)], env=env,
                           capture_output=True, text=True, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        where = subprocess.run([py, "-c", f"import {name}; print({name}.__file__)"], env=env, capture_output=True,
                               text=True, check=True).stdout
        assert where.startswith(lands)  # `pip install --user` too: into the throwaway folder
        mine = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=tmp_path)
        assert mine.returncode != 0  # this interpreter, the user's environment, never sees it


def test_a_probes_children_end_with_it(tmp_path):
    import subprocess

    import psutil

    pids = tmp_path / "pids"
    with pytest.raises(subprocess.TimeoutExpired):  # any exception (Ctrl-C, SIGTERM) ends the group the same way
        bisect.run_child(f"sleep 300 & echo $! > {pids}; sleep 300", shell=True, timeout_s=2)
    grandchild = int(pids.read_text())

    def ended() -> bool:
        try:
            return psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    # the signal is sent; the kernel ends the process a moment later (longer on a busy machine): wait for it,
    # bounded far beyond its own 300 s sleep being the thing that ends it
    deadline = time.monotonic() + 60
    while not ended() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ended()
