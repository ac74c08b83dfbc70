"""The fault-injection suite: every file benchbench reads, malformed and hostile; full disks; signals.

Contract of every case (contract()): a user's error is exit 2 with one `error:` line naming the file or
setting; never a traceback or an internal error (exit 3); nothing recorded is lost; no good file is
replaced by a partial one. Most cases call the CLI in-process (cli.main) on synthetic rows; the few
real runs use a one-config tiny suite and wait on row counts, never on timing."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchbench import cli
from tests.fixtures import runs


@pytest.fixture(autouse=True)
def plain_output(monkeypatch):
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def bb(capsys):
    """bb(*argv) -> (exit code, stdout, stderr) of the CLI run in this process."""
    def call(*argv):
        capsys.readouterr()
        rc = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err
    return call


def contract(rc: int, err: str, names: str | Path | None = None, code: int = 2):
    """User error: the expected exit code, no traceback, no internal error, one error line naming `names`."""
    assert rc == code, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error") or "error:" in ln]
    assert lines, err
    if names is not None:
        assert str(names) in lines[0], (names, err)


@pytest.fixture
def good_run(tmp_path) -> Path:
    """A whole run of two ok configs, three repeats each (seeded synthetic rows)."""
    return runs.write_run(tmp_path / "good", runs.config("aaaaaaaaaaaa", 0.1) + runs.config("bbbbbbbbbbbb", 0.05, seed=1,
                                                                                           attention="sdpa"))
