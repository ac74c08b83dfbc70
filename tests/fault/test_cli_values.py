"""Command-line values and text from stored files: nan/inf/negative numbers refused (exit 2 naming the
option); reasons and branch names with HTML, pipes and newlines stay one escaped markdown cell."""

import pytest

from tests.fault.conftest import contract
from tests.fixtures import runs

EVIL = "<img src=x onerror=alert(1)>\nsecond line | a pipe"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e400", "abc"])
@pytest.mark.parametrize("option", ["--memory-budget", "--price", "--gpus"])
def test_numbers_that_are_not_numbers_are_refused(bb, good_run, option, value, capsys):
    if option == "--price" and value == "0":
        return  # a free machine is a price
    with pytest.raises(SystemExit) as e:
        bb("recommend", good_run, f"{option}={value}")
    err = capsys.readouterr().err
    assert e.value.code == 2 and option in err and value in err and "Traceback" not in err, err


@pytest.mark.parametrize("option,value", [("--level", "nan"), ("--level", "1"), ("--threshold", "-5"),
                                          ("--threshold", "inf")])
def test_compare_levels_and_thresholds(bb, good_run, option, value, capsys):
    with pytest.raises(SystemExit) as e:
        bb("compare", good_run, good_run, f"{option}={value}")
    assert e.value.code == 2 and option in capsys.readouterr().err


def _assert_escaped(md: str):
    assert "<img" not in md and "second line" in md, md
    line = next(ln for ln in md.splitlines() if "second line" in ln)
    assert "onerror" in line and "second line \\| a pipe" in line  # one line, the pipe escaped


def test_recommend_markdown_escapes_reasons(bb, tmp_path):
    rows = runs.config("aaaaaaaaaaaa", 0.1) + [runs.row("bbbbbbbbbbbb", k, status="error", attention="sdpa",
                                                        reason=EVIL) for k in range(3)]
    d = runs.write_run(tmp_path / "run", rows)
    rc, out, err = bb("recommend", d, "--format", "markdown")
    assert rc == 0, err
    _assert_escaped(out)


def test_history_markdown_escapes_branch_names(bb, tmp_path):
    env = {**runs.CPU_ENV, "git_branch": EVIL, "git_commit": "a" * 40}
    d = runs.write_run(tmp_path / "run", runs.config("aaaaaaaaaaaa", 0.1), env=env)
    path = tmp_path / "h.duckdb"
    assert bb("history", "add", d, "--history-db", path)[0] == 0
    rc, out, err = bb("history", "show", "--history-db", path, "--format", "markdown")
    assert rc == 0, err
    _assert_escaped(out)


def test_a_history_holding_only_this_run_says_so(bb, good_run, tmp_path):
    path = tmp_path / "h.duckdb"
    assert bb("history", "add", good_run, "--history-db", path)[0] == 0
    rc, _, err = bb("gate", good_run, "--history", path)
    contract(rc, err)
    assert "only run of this machine is this run itself" in err and "it holds:" not in err
