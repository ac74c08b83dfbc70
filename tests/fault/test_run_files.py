"""A run directory's files (rows.jsonl, run.json, env.json) and baseline files, damaged every way a disk,
an editor or an adversary can: every reading command answers (exit 0 with a notice, or exit 2 naming
the file), never an internal error; a last row without its newline is a row, not a torn line."""

import json
import shutil

import pytest

from benchbench.store import results
from tests.fault.conftest import contract
from tests.fixtures import runs

ROW_DAMAGE = {
    "no final newline": lambda b: b.rstrip(b"\n"),
    "torn last line": lambda b: b + b'{"schema_version": 1, "config_id": "aaaa',
    "garbage line": lambda b: b + b"\x00\xff garbage \xfe\n",
    "lone surrogate escape": lambda b: b + b'{"config_id": "\\ud800", "repeat": 0, "schema_version": 1}\n',
    "wrong types": lambda b: b + json.dumps({"schema_version": 1, "config_id": 5, "repeat": "x", "status": None,
                                             "step_times_s": "abc", "tokens_per_s": "fast"}).encode() + b"\n",
    "a JSON list": lambda b: b + b"[1, 2, 3]\n",
    "a huge line": lambda b: b + b'{"x": "' + b"y" * (4 << 20) + b'"}\n',
    "truncated to nothing": lambda b: b"",
}
READERS = {
    "table": lambda d, o: ("table", d),
    "compare": lambda d, o: ("compare", o, d),
    "recommend": lambda d, o: ("recommend", d),
    "export": lambda d, o: ("export", d, "--format", "bencher", "-o", d / "bmf.json"),
    "baseline save": lambda d, o: ("baseline", "save", d, "--name", "b", "--dir", d / "baselines"),
    "report": lambda d, o: ("report", o, d, "--format", "markdown", "-o", "-"),
    "history add": lambda d, o: ("history", "add", d, "--history-db", d.parent / "h.duckdb"),
}


@pytest.mark.parametrize("damage", ROW_DAMAGE)
@pytest.mark.parametrize("reader", READERS)
def test_damaged_rows_never_an_internal_error(bb, good_run, tmp_path, damage, reader):
    d = tmp_path / "damaged"
    shutil.copytree(good_run, d)
    rows = d / results.ROWS
    rows.write_bytes(ROW_DAMAGE[damage](rows.read_bytes()))
    rc, _, err = bb(*READERS[reader](d, good_run))
    assert rc in (0, 1, 2, 4) and "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        contract(rc, err, d)


def test_a_last_row_without_its_newline_is_kept_by_the_next_append(tmp_path):
    d = runs.write_run(tmp_path / "run", runs.config("aaaaaaaaaaaa", 0.1))
    rows = d / results.ROWS
    rows.write_bytes(rows.read_bytes().rstrip(b"\n"))
    results.append(d, runs.row("bbbbbbbbbbbb", 0))
    assert [(r["config_id"], r["repeat"]) for r in results.read_rows(d)] == [
        ("aaaaaaaaaaaa", 0), ("aaaaaaaaaaaa", 1), ("aaaaaaaaaaaa", 2), ("bbbbbbbbbbbb", 0)]


def test_a_torn_last_line_is_cut_before_the_next_append(tmp_path):
    d = runs.write_run(tmp_path / "run", runs.config("aaaaaaaaaaaa", 0.1))
    rows = d / results.ROWS
    rows.write_bytes(rows.read_bytes() + b'{"config_id": "aaaaaaaaaaaa", "rep')
    results.append(d, runs.row("bbbbbbbbbbbb", 0))
    assert len(results.read_rows(d)) == 4 and rows.read_bytes().endswith(b"}\n")


JSON_DAMAGE = {"truncated": lambda t: t[: len(t) // 2], "a list": lambda t: "[1, 2]", "garbage": lambda t: "\x00\xff",
               "empty": lambda t: "", "a string": lambda t: '"run"',
               "wrong types": lambda t: json.dumps({k: [7] for k in json.loads(t)}),
               "numbers for texts": lambda t: json.dumps({k: 7 for k in json.loads(t)})}


@pytest.mark.parametrize("name", ["run.json", "env.json"])
@pytest.mark.parametrize("damage", JSON_DAMAGE)
@pytest.mark.parametrize("reader", ["table", "compare", "recommend", "export", "report", "baseline save", "history add"])
def test_damaged_run_json_and_env_json(bb, good_run, tmp_path, name, damage, reader):
    d = tmp_path / "damaged"
    shutil.copytree(good_run, d)
    (d / name).write_text(JSON_DAMAGE[damage]((d / name).read_text()), errors="surrogateescape")
    rc, _, err = bb(*READERS[reader](d, good_run))
    assert rc in (0, 2) and "Traceback" not in err and "internal error" not in err, err
    if rc == 2:
        contract(rc, err, d)


@pytest.mark.parametrize("damage", [*JSON_DAMAGE, "wrong kinds"])
def test_damaged_baseline_file(bb, good_run, tmp_path, damage):
    rc, _, err = bb("baseline", "save", good_run, "--name", "b", "--dir", tmp_path / "baselines")
    assert rc == 0, err
    path = tmp_path / "baselines" / "b.json"
    text = path.read_text()
    if damage == "wrong kinds":
        data = json.loads(text)
        data.update({k: 5 for k in data if k != "kind" and k != "schema_version"})
        path.write_text(json.dumps(data))
    else:
        path.write_text(JSON_DAMAGE[damage](text), errors="surrogateescape")
    for argv in (("gate", good_run, "--baseline", path), ("report", good_run, "--baseline", path, "--format", "markdown",
                                                         "-o", "-")):
        rc, _, err = bb(*argv)
        contract(rc, err, path)


def test_export_of_an_empty_run_is_refused(bb, good_run, tmp_path):
    (good_run / results.ROWS).write_bytes(b"")
    for fmt in ("bencher", "pytest-benchmark"):
        rc, _, err = bb("export", good_run, "--format", fmt, "-o", tmp_path / "out.json")
        contract(rc, err, good_run)
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("reader", ["report", "gate"])
def test_a_hostile_stored_suite_yaml_is_read_past(bb, good_run, tmp_path, reader):
    from tests.fault.test_suite_files import BOMB

    (good_run / "suite.yaml").write_text(BOMB)
    rc, _, err = bb("baseline", "save", good_run, "--name", "b", "--dir", tmp_path)
    assert rc == 0, err
    argv = {"report": ("report", good_run, "--format", "markdown", "-o", "-"),
            "gate": ("gate", good_run, "--baseline", tmp_path / "b.json")}[reader]
    rc, _, err = bb(*argv)
    assert rc in (0, 1, 4) and "Traceback" not in err, err
