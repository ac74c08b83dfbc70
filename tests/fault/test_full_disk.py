"""Full disks, file-size limits and read-only places: the error names the file (and the resume for a run),
the rows already recorded stay, and a file that existed is never replaced by a partial one."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchbench.store import results
from tests.fault.conftest import contract
from tests.fixtures import runs

REPO = Path(__file__).resolve().parents[2]


def test_a_full_disk_while_appending_a_row_names_the_file_and_the_resume(tmp_path, monkeypatch):
    d = runs.write_run(tmp_path / "run", runs.config("aaaaaaaaaaaa", 0.1))
    before = (d / results.ROWS).read_bytes()

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(results.StoreError) as e:
        results.append(d, runs.row("bbbbbbbbbbbb", 0))
    msg = str(e.value)
    assert str(d / results.ROWS) in msg and f"benchbench run --resume {d}" in msg and "space" in msg
    monkeypatch.undo()
    assert (d / results.ROWS).read_bytes() == before


def test_a_short_write_is_an_error_and_its_fragment_is_cut_by_the_next_append(tmp_path, monkeypatch):
    d = runs.write_run(tmp_path / "run", runs.config("aaaaaaaaaaaa", 0.1))
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, data[: len(data) // 2]))
    with pytest.raises(results.StoreError):
        results.append(d, runs.row("bbbbbbbbbbbb", 0))
    monkeypatch.undo()
    results.append(d, runs.row("bbbbbbbbbbbb", 0))
    assert len(results.read_rows(d)) == 4


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_failing_writer_leaves_the_old_file_whole(bb, good_run, tmp_path, monkeypatch, err):
    out = tmp_path / "report.md"
    out.write_text("the old report\n")

    def failing(self, *a, **k):
        Path.open(self, "w").write("half a rep")  # the writer got part of the way
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(Path, "write_text", failing)
    rc, _, e = bb("report", good_run, "--format", "markdown", "-o", out)
    contract(rc, e, out)
    assert out.read_text() == "the old report\n" and [p.name for p in tmp_path.iterdir()].count("report.md") == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.md")]


@pytest.mark.parametrize("argv", [
    ["report", "{run}", "-o", "{out}"],
    ["export", "{run}", "--format", "bencher", "-o", "{out}"],
    ["baseline", "save", "{run}", "--name", "b", "--dir", "{dir}", "--force"],
], ids=["report", "export", "baseline"])
def test_a_file_size_limit_keeps_the_old_file(good_run, tmp_path, argv):
    """RLIMIT_FSIZE in a child process: every write past 300 bytes fails with EFBIG, as on a full disk."""
    out = tmp_path / ("b.json" if "baseline" in argv else "out.file")
    old = "old " * 50
    out.write_text(old)
    args = [a.format(run=good_run, out=out, dir=tmp_path) for a in argv]
    code = ("import resource, signal, sys\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))\nfrom benchbench import cli\n"
            f"sys.exit(cli.main({args!r}))")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    contract(p.returncode, p.stderr, out)
    assert out.read_text() == old
