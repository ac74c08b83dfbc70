import json

from benchbench import cli
from benchbench.basics.units import GIB
from tests.fixtures import runs


def _run(tmp_path):
    return runs.write_run(tmp_path / "run", [
        *runs.config("base", 0.2, repeats=3, seed=1, rss=1 * GIB),
        *runs.config("fast", 0.1, repeats=3, seed=2, attention="sdpa", rss=2 * GIB),
        runs.row("oom", status="oom", precision="bf16"),
    ])


def test_recommend_json_names_pick_front_and_why(tmp_path, capsys):
    d = _run(tmp_path)
    assert cli.main(["recommend", str(d), "--format", "json", "--price", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pick"] == "fast" and out["baseline_id"] == "base"
    assert [r["config_id"] for r in out["ranked"]] == ["fast", "base"]
    assert all(r["on_front"] for r in out["ranked"])  # faster but hungrier: both on the front
    assert {e["setting"] for e in out["explanation"]} == {"all", "attention"}
    assert out["excluded"][0]["constraint"] == "status ok"


def test_recommend_table_and_markdown(tmp_path, capsys):
    d = _run(tmp_path)
    assert cli.main(["recommend", str(d), "--price", "2"]) == 0
    out = capsys.readouterr().out
    assert "attention: eager -> sdpa: faster" in out and "usd_per_mtoken" in out and "$" in out
    assert cli.main(["recommend", str(d), "--format", "markdown", "--memory-budget", "3", "--gpus", "1"]) == 0
    out = capsys.readouterr().out
    assert "| rank |" in out and "### Recommendation: tokens_per_s (memory budget 3 GiB, at most 1 GPU)" in out


def test_nothing_qualifies_is_exit_2_naming_the_constraint(tmp_path, capsys):
    d = _run(tmp_path)
    assert cli.main(["recommend", str(d), "--memory-budget", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "memory budget" in err and "Traceback" not in err
    assert cli.main(["recommend", str(d), "--objective", "usd_per_mtoken"]) == 2
    assert "--price" in capsys.readouterr().err
    assert cli.main(["recommend", str(tmp_path / "nope")]) == 2
