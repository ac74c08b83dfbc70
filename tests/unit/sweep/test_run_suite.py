"""A run as a library call, no command line: the tiny CPU quickstart (--smoke) through run_suite, its
rows and run directory checked, a listener hearing it, and bad input refused as a UserError."""

from pathlib import Path

import pytest

from benchbench import sweep
from benchbench.basics.errors import UserError
from benchbench.spec import suite as suites
from benchbench.store import results

QUICKSTART = Path(__file__).resolve().parents[3] / "suites" / "quickstart.yaml"


class Heard(sweep.RunListener):
    def __init__(self):
        self.events = []

    def starting(self, run, todo):
        self.events.append(("starting", todo))

    def sweeping(self, run, todo):
        from contextlib import contextmanager

        @contextmanager
        def rows():
            yield lambda done, total, cfg, row: self.events.append(("row", cfg.config_id, row["status"]))
        return rows()

    def finished(self, run):
        self.events.append(("finished", run.recorded))


def test_the_quickstart_runs_through_the_library(tmp_path):
    heard = Heard()
    run = sweep.run_suite(QUICKSTART, sweep.RunOptions(smoke=True, device="cpu", output=tmp_path / "run",
                                                       command=["test"]), heard)
    configs = suites.load(QUICKSTART).expand(smoke=True, overrides={"device": "cpu"})
    assert run.leader and not run.interrupted and run.run_dir == tmp_path / "run"
    rows = run.rows
    assert sorted(rows["config_id"].unique()) == sorted(c.config_id for c in configs)
    assert len(rows) == sum(c.repeats for c in configs) == run.summary.ran
    assert set(rows["status"]) == {"ok"} and (rows["samples_per_s"] > 0).all()
    assert run.record["finished_at"] and run.record["command"] == ["test"] and run.record["smoke"]
    assert results.read_json(run.run_dir / "run.json")["expected_runs"] == len(rows)
    assert heard.events[0] == ("starting", len(rows)) and heard.events[-1] == ("finished", True)
    assert sum(e[0] == "row" for e in heard.events) == len(rows)
    assert results.completeness(run.run_dir) is None   # nothing left for --resume


def test_bad_input_is_a_user_error_before_anything_is_written(tmp_path):
    with pytest.raises(UserError, match="--config nope: not a config of this suite"):
        sweep.run_suite(QUICKSTART, sweep.RunOptions(smoke=True, device="cpu", configs=["nope"],
                                                     output=tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    with pytest.raises(UserError, match="name a suite file"):
        sweep.run_suite(None)
