"""A full disk under the history and read-only places for every output, on real file systems: a small
tmpfs (full) and a read-only tmpfs, mounted for the test where it may mount (root); without that, the
full disk is a file-size limit (RLIMIT_FSIZE) and the real read-only place is skipped (its injected
twin, EROFS from every Python write, always runs). Contract: exit 2, one line naming the path and what
to do, earlier runs kept, nothing left in the read-only place."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchbench.store import history
from tests.fault.conftest import contract
from tests.fixtures import runs

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}


def _mount(where: Path, opts: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def mounted(tmp_path):
    """mounted(opts) -> the folder, a tmpfs mounted with opts for this test (None where it cannot mount)."""
    done = []

    def mount(opts: str):
        where = tmp_path / f"mnt{len(done)}"
        if not _mount(where, opts):
            return None
        done.append(where)
        return where

    yield mount
    for where in done:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=60)


def cli(*argv, limit: int | None = None):
    code = "import sys\nfrom benchbench import cli\nsys.exit(cli.main(sys.argv[1:]))"
    if limit is not None:  # every write past `limit` bytes fails with EFBIG, as on a full disk
        code = ("import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n" + code)
    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, env=ENV,
                          timeout=300)


def _fill(folder: Path):
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def test_a_full_disk_under_the_history_keeps_every_earlier_run(good_run, tmp_path, mounted):
    other = runs.write_run(tmp_path / "other", runs.config("cccccccccccc", 0.2), sha="def")
    place = mounted("size=8m")
    db = (place or tmp_path) / "h.duckdb"
    p = cli("history", "add", good_run, "--history-db", db)
    assert p.returncode == 0, p.stderr
    if place:
        _fill(place)
        p = cli("history", "add", other, "--history-db", db)
        (place / "filler").unlink()
    else:
        p = cli("history", "add", other, "--history-db", db, limit=1024)  # the WAL of any add is larger
    contract(p.returncode, p.stderr, db)
    assert "free some space" in p.stderr and "every earlier run is kept" in p.stderr, p.stderr
    assert history.runs(db)["run_dir"].tolist() == [str(good_run)]
    p = cli("history", "add", other, "--history-db", db)  # with room again, the same add goes through
    assert p.returncode == 0 and len(history.runs(db)) == 2, p.stderr


SUITE = """\
name: tiny
model: {name: gpt, size: tiny, n_layer: 1, n_embd: 32, n_head: 2, seq_len: 16}
defaults: {device: cpu, batch_size: 2, seq_len: 16, warmup_steps: 1, measured_steps: 2, repeats: 1, timeout_s: 120}
"""


@pytest.mark.parametrize("what", ["run -o", "report -o", "export -o (a file)", "export -o (a folder)", "history add",
                                  "history export"])
def test_a_read_only_place_is_named(good_run, tmp_path, mounted, what):
    ro = mounted("ro,size=1m")
    if ro is None:
        pytest.skip("cannot mount a read-only tmpfs here (not root); test_full_disk.py injects EROFS instead")
    (tmp_path / "tiny.yaml").write_text(SUITE)
    argv, named = {
        "run -o": (["run", tmp_path / "tiny.yaml", "-o", ro / "run", "-q"], ro / "run"),
        "report -o": (["report", good_run, "--format", "markdown", "-o", ro / "r.md"], ro / "r.md"),
        "export -o (a file)": (["export", good_run, "--format", "bencher", "-o", ro / "b.json"], ro / "b.json"),
        "export -o (a folder)": (["export", good_run, "--format", "tensorboard", "-o", ro / "tb"], ro / "tb"),
        "history add": (["history", "add", good_run, "--history-db", ro / "h.duckdb"], ro / "h.duckdb"),
        "history export": (["history", "export", ro / "shared", "--history-db", tmp_path / "h.duckdb"], ro / "shared"),
    }[what]
    if what == "history export":
        assert cli("history", "add", good_run, "--history-db", tmp_path / "h.duckdb").returncode == 0
    if what == "export -o (a folder)":
        pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    p = cli(*argv)
    contract(p.returncode, p.stderr, named)
    assert len([ln for ln in p.stderr.splitlines() if ln.strip()]) == 1, p.stderr
    assert not os.listdir(ro)


@pytest.fixture
def injected_read_only(tmp_path, monkeypatch):
    """A folder every write into fails with EROFS (os.open, open, mkdir, rename): the read-only place where
    no tmpfs can be mounted. In-process: the CLI's own Python writes see it (DuckDB's native ones do not)."""
    import builtins
    import errno
    import io

    ro = tmp_path / "ro"
    ro.mkdir()
    inside = lambda p: str(os.path.abspath(os.fspath(p))).startswith(str(ro))  # noqa: E731

    def refuse(p):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(p))

    real_os_open, real_open, real_mkdir, real_replace = os.open, builtins.open, os.mkdir, os.replace

    def os_open(p, flags, *a, **k):
        if inside(p) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(p)
        return real_os_open(p, flags, *a, **k)

    def py_open(p, mode="r", *a, **k):
        if isinstance(p, (str, os.PathLike)) and inside(p) and any(c in mode for c in "wax+"):
            refuse(p)
        return real_open(p, mode, *a, **k)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", py_open)
    monkeypatch.setattr(io, "open", py_open)
    monkeypatch.setattr(os, "mkdir", lambda p, *a, **k: refuse(p) if inside(p) else real_mkdir(p, *a, **k))
    monkeypatch.setattr(os, "replace", lambda a, b, **k: refuse(b) if inside(b) else real_replace(a, b, **k))
    return ro


@pytest.mark.parametrize("what", ["run -o", "report -o", "export -o (a file)", "export -o (a folder)", "history add",
                                  "history export"])
def test_an_injected_read_only_place_is_named(bb, good_run, tmp_path, injected_read_only, what):
    ro = injected_read_only
    if what == "export -o (a folder)":
        pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    (tmp_path / "tiny.yaml").write_text(SUITE)
    if what == "history export":
        assert bb("history", "add", good_run, "--history-db", tmp_path / "h.duckdb")[0] == 0
    argv, named = {
        "run -o": (["run", tmp_path / "tiny.yaml", "-o", ro / "run", "-q"], ro / "run"),
        "report -o": (["report", good_run, "--format", "markdown", "-o", ro / "r.md"], ro / "r.md"),
        "export -o (a file)": (["export", good_run, "--format", "bencher", "-o", ro / "b.json"], ro / "b.json"),
        "export -o (a folder)": (["export", good_run, "--format", "tensorboard", "-o", ro / "tb"], ro / "tb"),
        "history add": (["history", "add", good_run, "--history-db", ro / "h.duckdb"], ro / "h.duckdb"),
        "history export": (["history", "export", ro / "shared", "--history-db", tmp_path / "h.duckdb"], ro / "shared"),
    }[what]
    rc, _, err = bb(*argv)
    contract(rc, err, named)
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, err
    assert not os.listdir(ro)
