"""sweep/ab.py with the measuring replaced by a recorder: the sides alternate A,B / B,A repeat by repeat and
ab.json says so; each child asks for exactly one more repeat; a side's run directory is an ordinary run
(run.json with its configs and repeats, env.json with the side's commit); configs that differ between the
suites are refused."""

import pytest

from benchbench.spec import suite as suites
from benchbench.store import results
from benchbench.sweep import ab
from tests.fixtures import history_repo

STEADY = "tests/fixtures/suites/steady.yaml"


def suite_file(tmp_path, name, seeds):
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"name: {name}\nmodel: {{name: \"py:tests.fixtures.faulty_model\", size: ok}}\n"
                 "defaults: {device: cpu, warmup_steps: 1, measured_steps: 2, repeats: 2}\n"
                 f"sweep: {{seed: {seeds}}}\n")
    return p


def test_order_alternates_and_cancels():
    firsts = [ab.order(r)[0] for r in range(6)]
    assert firsts == ["a", "b", "a", "b", "a", "b"]
    assert all(sorted(ab.order(r)) == ["a", "b"] for r in range(6))


def test_config_ids_same_suite_twice_and_only(tmp_path):
    ids = [c.config_id for c in suites.load(STEADY).expand()]
    assert ab.config_ids(STEADY, STEADY, None, False) == ids
    assert ab.config_ids(STEADY, STEADY, [ids[1]], False) == [ids[1]]
    with pytest.raises(ab.AbError, match="--config nope: not a config"):
        ab.config_ids(STEADY, STEADY, ["nope"], False)


def test_config_ids_differ_refused(tmp_path):
    a, b = suite_file(tmp_path, "a", [0, 1]), suite_file(tmp_path, "b", [0, 2])
    with pytest.raises(ab.AbError, match="make different configs"):
        ab.config_ids(a, b, None, False)
    same = [c.config_id for c in suites.load(a).expand()][:1]   # seed 0 is in both: --config makes them match
    assert ab.config_ids(a, b, same, False) == same


def test_default_repeats(tmp_path):
    assert ab.default_repeats(suite_file(tmp_path, "a", [0]), False) == 2
    auto = tmp_path / "auto.yaml"
    auto.write_text(suite_file(tmp_path, "x", [0]).read_text().replace("repeats: 2", "repeats: auto"))
    assert ab.default_repeats(auto, False) == 5


def test_interleave_order_and_one_repeat_per_child(tmp_path, monkeypatch):
    calls = []

    def fake_repeat(side, repeat, timeout_s=None):
        calls.append((side.name, repeat))

    monkeypatch.setattr(ab, "run_repeat", fake_repeat)
    sides = {n: ab.Side(n, tmp_path / "s.yaml", tmp_path / n, tmp_path) for n in "ab"}
    done = ab.interleave(sides, 4, tmp_path, log=lambda m: None)
    want = [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2), ("b", 3), ("a", 3)]
    assert calls == want
    recorded = results.read_json(tmp_path / ab.ORDER_FILE)
    assert [(o["side"], o["repeat"]) for o in recorded["order"]] == want == [(o["side"], o["repeat"]) for o in done]
    assert recorded["repeats"] == 4


def test_start_writes_an_ordinary_run_and_run_repeat_asks_for_one_more(tmp_path, monkeypatch):
    repo, commits, _ = history_repo.make(tmp_path / "h", n=2, k=1)
    side = ab.Side("b", suite_file(tmp_path, "s", [0, 1]), tmp_path / "out" / "b", repo, commit=commits[-1])
    ids = ab.config_ids(side.suite, side.suite, None, False)
    ab.start(side, ids, False, 3)
    run = results.read_json(side.run_dir / "run.json")
    assert run["config_ids"] == ids and run["overrides"] == {"repeats": 3} and run["suite"] == "s"
    assert run["run_id"].endswith("-b") and run["run_id"] != side.run_dir.parent.name + "-b"
    assert (side.run_dir / "suite.yaml").read_text() == side.suite.read_text()
    assert results.read_json(side.run_dir / "env.json")["git_commit"] == commits[-1]
    seen = []

    def fake_child(cmd, **kw):
        seen.append((cmd[-3:], results.read_json(side.run_dir / "run.json")["overrides"]["repeats"], kw["cwd"]))
        return 0

    monkeypatch.setattr(ab.bisect, "run_child", fake_child)
    ab.run_repeat(side, 0)
    ab.run_repeat(side, 1)
    assert seen == [(["--resume", str(side.run_dir), "-q"], 1, repo), (["--resume", str(side.run_dir), "-q"], 2, repo)]
    monkeypatch.setattr(ab.bisect, "run_child", lambda cmd, **kw: 7)
    with pytest.raises(ab.AbError, match="side B, repeat 2: benchbench run failed \\(exit 7\\)"):
        ab.run_repeat(side, 2)
    with pytest.raises(ab.AbError, match="already holds a run"):
        (side.run_dir / results.ROWS).write_text("")
        ab.start(side, ids, False, 3)
