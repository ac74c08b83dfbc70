"""benchbench run --against RUN: a directory that is not a finished run is refused (exit 2, one line) before
any run directory is made; a run is recorded in run.json as the reference of repeats: auto."""

from pathlib import Path

from benchbench import cli
from benchbench.commands import run as run_cmd
from benchbench.store import results

QUICKSTART = Path(__file__).resolve().parents[2] / "suites" / "quickstart.yaml"


def test_against_a_directory_without_rows_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(QUICKSTART), "--smoke", "-o", str(out), "--against", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --against ") and "not a run directory with rows" in err and err.count("\n") == 1
    assert not out.exists()


def test_against_a_run_names_it(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / results.ROWS).write_text("")
    assert run_cmd.against(str(ref)) == str(ref.resolve())
