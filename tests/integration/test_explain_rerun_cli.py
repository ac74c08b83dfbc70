"""`benchbench explain --rerun` and per-rank communication through the real command line, on a CPU.

--rerun: two runs without profiles whose rows (synthetic, so the verdict is certain) say one config got
slower; the changed config alone is run again with the profiler on both sides, into a new folder beside
the originals, and explained from those reruns. Same code: both reruns run here (the quickstart suite,
--smoke). Two commits (tests/fixtures/history_repo.py: the model is 4x wider from commit 6 on): each side
reruns at its own commit (the parameter counts say which code ran). Bad input: exit 2, one line.
Communication: two ranks of the tiny model under DDP (gloo), profiled: every rank's exposed and
overlapped collective time is listed (its structure checked, not its values)."""

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from benchbench.spec import suite as suites
from tests.fixtures import history_repo
from tests.fixtures.runs import CPU_ENV, config, write_run
from tests.integration.test_cli import QUICKSTART, cli_run, plain_output  # noqa: F401


def unprofiled(d: Path, suite_file: Path, medians: dict, smoke: bool, env: dict | None = None) -> Path:
    """A run directory of synthetic ok rows (3 repeats a config, no profile) made from `suite_file`."""
    name = suites.load(suite_file).name
    rows = [r for i, (cid, m) in enumerate(medians.items()) for r in config(cid, m, seed=i)]
    for r in rows:
        r["suite"] = name
    write_run(d, rows, env=env or CPU_ENV, suite=name, smoke=smoke)
    shutil.copyfile(suite_file, d / "suite.yaml")
    return d


def rows(d: Path) -> list[dict]:
    return [json.loads(line) for line in (d / "rows.jsonl").read_text().splitlines()]


def rerun_dirs(root: Path) -> list[Path]:
    return sorted(root.glob("explain-rerun-*"))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun")
    ids = [c.config_id for c in suites.load(QUICKSTART).expand(smoke=True)]
    a = unprofiled(root / "a", QUICKSTART, {c: 0.010 for c in ids}, smoke=True)
    b = unprofiled(root / "b", QUICKSTART, {c: 0.020 if c == ids[1] else 0.010 for c in ids}, smoke=True)
    return root, a, b, ids


def test_same_code_reruns_only_the_changed_config_with_a_profile(quick):
    root, a, b, ids = quick
    before = (a / "rows.jsonl").read_text(), (b / "rows.jsonl").read_text()
    p = cli_run("explain", a, b, "--rerun")
    assert p.returncode == 0, p.stderr
    (out,) = rerun_dirs(root)
    assert f"-> {out}/a, {out}/b" in p.stderr and "the same code on both sides" in p.stderr
    for side in "ab":
        got = rows(out / side)
        assert {r["config_id"] for r in got} == {ids[1]} and all(r["status"] == "ok" for r in got)
        assert all(r["profile_steps"] and (out / side / r["profile_trace"]).is_file() for r in got)
        assert json.loads((out / side / "run.json").read_text())["rerun_of"] == str((root / side).resolve())
    assert ((a / "rows.jsonl").read_text(), (b / "rows.jsonl").read_text()) == before  # the originals untouched
    assert not (a / "artifacts").exists() and not (b / "artifacts").exists()
    assert "step time" in p.stdout.splitlines()[0] and "device: matmul" in p.stdout
    # the CPU trace's operators, named with their categories (which moved most is the machine's noise here)
    assert re.search(r"kernels \(ms/step A -> B\):\n +\S+ +(matmul|attention|norm_elementwise|memcpy|optimizer|other) ",
                     p.stdout), p.stdout


@pytest.mark.parametrize("case, message", [
    ("same", "changed (compare gives no faster or slower step-time verdict): nothing to rerun"),
    ("suite", "the runs are of different suites ('quickstart' and 'other')"),
    ("commit", f"revision '{'0' * 40}' does not exist in"),  # before anything runs
])
def test_bad_input_exits_2_with_one_line(quick, tmp_path, case, message):
    root, a, b, ids = quick
    if case == "same":
        other = unprofiled(tmp_path / "same", QUICKSTART, {c: 0.010 for c in ids}, smoke=True)
    elif case == "commit":  # commits this checkout does not hold
        a = tmp_path / "a"
        shutil.copytree(root / "a", a)
        other = tmp_path / "b"
        shutil.copytree(b, other)
        for d, commit in ((a, "0" * 40), (other, "1" * 40)):
            (d / "env.json").write_text(json.dumps({**CPU_ENV, "git_commit": commit}))
    else:
        other = tmp_path / "other"
        shutil.copytree(b, other)
        run = json.loads((other / "run.json").read_text())
        (other / "run.json").write_text(json.dumps({**run, "suite": "other"}))
    p = cli_run("explain", a, other, "--rerun")
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("explain-rerun-*"))


def test_two_commits_each_side_reruns_at_its_revision(tmp_path, monkeypatch):
    repo, commits, suite = history_repo.make(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.syspath_prepend(str(repo))  # the suite's `py:histmodel`, loaded here, imports from the checkout
    (cid,) = [c.config_id for c in suites.load(suite).expand()]
    env = lambda commit: {**CPU_ENV, "git_commit": commit, "git_dirty": False}  # noqa: E731
    a = unprofiled(tmp_path / "runs" / "a", suite, {cid: 0.002}, smoke=False, env=env(commits[0]))
    b = unprofiled(tmp_path / "runs" / "b", suite, {cid: 0.008}, smoke=False, env=env(commits[history_repo.K]))
    p = cli_run("explain", a, b, "--rerun", "--repo", repo, cwd=repo)
    assert p.returncode == 0, p.stderr
    (out,) = rerun_dirs(tmp_path / "runs")
    assert f"A at {commits[0][:12]}, B at {commits[history_repo.K][:12]}" in p.stderr
    ra, rb = rows(out / "a"), rows(out / "b")
    assert {r["n_params"] for r in ra} == {2 * 512 * 512 + 512 + 512}  # A's code: 512 hidden units
    assert {r["n_params"] for r in rb} == {2 * 512 * 2048 + 2048 + 512}  # B's: 2048
    assert json.loads((out / "a" / "env.json").read_text())["git_commit"] == commits[0]
    # which kernels lead depends on the CPU's timing of a few profiled steps: only the explanation's form is certain
    assert "step time" in p.stdout.splitlines()[0] and "device: matmul" in p.stdout
    assert not subprocess_worktrees(repo)


def subprocess_worktrees(repo: Path) -> list[str]:
    import subprocess

    out = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.startswith("worktree ") and "benchbench-bisect-" in line]


DDP = textwrap.dedent("""\
    name: ddptiny
    description: two ranks of a tiny GPT under DDP on the CPU (gloo), profiled
    model: {name: gpt, size: tiny, n_layer: 2, n_embd: 64, n_head: 2, seq_len: 32}
    defaults: {device: cpu, precision: fp32, batch_size: 4, seq_len: 32, warmup_steps: 1, measured_steps: 3,
               repeats: 1, timeout_s: 300, engine: ddp, world_size: 2, profile: true}
""")
RANKS = re.compile(r"collectives per rank \(ms/step exposed / overlapped by compute\): A (.*); B (.*)")


def test_every_ranks_exposed_and_overlapped_communication(tmp_path):
    (tmp_path / "ddp.yaml").write_text(DDP)
    for side in "ab":
        p = cli_run("run", tmp_path / "ddp.yaml", "-o", tmp_path / side, "-q")
        assert p.returncode == 0, p.stderr
        (r,) = rows(tmp_path / side)
        assert len(r["profile_communication_exposed_us_per_rank"]) == 2
        assert len(r["profile_communication_overlapped_us_per_rank"]) == 2
    p = cli_run("explain", tmp_path / "a", tmp_path / "b")
    assert p.returncode == 0, p.stderr
    m = RANKS.search(p.stdout)
    assert m, p.stdout
    for side in m.groups():
        per = re.findall(r"r(\d) (\d+\.\d\d) / (\d+\.\d\d)", side)
        assert [int(r) for r, _, _ in per] == [0, 1]
        assert all(float(x) >= 0 and float(o) >= 0 and float(x) + float(o) > 0 for _, x, o in per)
