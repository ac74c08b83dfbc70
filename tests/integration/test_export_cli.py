"""benchbench export on a synthetic run: every format's exit codes and messages through the CLI."""

import json
import sys

import pytest

from benchbench import cli
from tests.fixtures import runs


@pytest.fixture
def run_dir(tmp_path):
    return runs.write_run(tmp_path / "run", [*runs.config("c1", 0.1), *runs.config("c2", 0.05, attention="sdpa")])


def test_default_outputs_under_the_run(run_dir, capsys):
    assert cli.main(["export", str(run_dir), "--format", "bencher"]) == 0
    assert len(json.loads((run_dir / "bencher.json").read_text())) == 2
    assert cli.main(["export", str(run_dir), "--format", "pytest-benchmark"]) == 0
    assert len(json.loads((run_dir / "pytest-benchmark.json").read_text())["benchmarks"]) == 2
    assert "bencher run --adapter json" in capsys.readouterr().err


def test_missing_library_and_misplaced_option_are_exit_2(run_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import fails as when it is not installed
    assert cli.main(["export", str(run_dir), "--format", "mlflow"]) == 2
    err = capsys.readouterr().err
    assert "benchbench[mlflow]" in err and "Traceback" not in err
    assert cli.main(["export", str(run_dir), "--format", "bencher", "--tracking-uri", "http://x"]) == 2
    assert "--tracking-uri is for --format mlflow" in capsys.readouterr().err
