"""One real tiny run through the command line (a tiny quickstart: two configs, the sdpa one at
batch_size: max with its search capped at batch 2 to stay short, a price per GPU hour), then
recommend and every export, each read back by its own library."""

import json

import pytest

from benchbench import cli
from benchbench.store import results
from benchbench.sweep import autobatch
from tests.integration.test_cli import FIXTURES, plain_output  # noqa: F401


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("answers") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(autobatch, "CPU_CAP", 2)
        assert cli.main(["run", str(FIXTURES / "answers.yaml"), "-o", str(d), "-q"]) == 0
    return d


def test_batch_size_max_was_searched_then_measured(run_dir):
    rows = results.read_rows(run_dir)
    assert sorted((r["attention"], r["batch_size"]) for r in rows) == [("eager", 1), ("sdpa", 2)]
    assert all(r["status"] == "ok" for r in rows)
    probes = results.read_rows(run_dir / autobatch.DIR)  # every probe a row, apart from the measured ones
    assert [(p["batch_size"], p["status"]) for p in probes] == [(1, "ok"), (2, "ok")]
    [answer] = results.read_json(run_dir / autobatch.ANSWERS).values()
    assert answer["max_batch"] == 2 and answer["capped"]
    run = results.read_json(run_dir / "run.json")
    assert set(run["config_ids"]) == {r["config_id"] for r in rows}
    assert cli.main(["table", str(run_dir / autobatch.DIR)]) == 0  # the probes are a run of their own


def test_resume_reuses_the_search(run_dir, monkeypatch):
    def no_probe(*a, **k):
        raise AssertionError("a probe ran again")

    monkeypatch.setattr(autobatch.launch, "run", no_probe)
    assert cli.main(["run", "--resume", str(run_dir), "-q"]) == 0  # everything recorded: nothing runs


def test_recommend_with_the_suites_price(run_dir, capsys):
    assert cli.main(["recommend", str(run_dir), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["ranked"]) == 2 and out["baseline_id"]
    assert all(r["usd_per_mtoken"] > 0 for r in out["ranked"])  # price_per_gpu_hour from the suite
    # one repeat a config: the repeats cannot separate the two, so neither is ranked and no pick is possible yet
    assert [r["rank"] for r in out["ranked"]] == [0, 0]
    assert out["pick"] is None and out["no_pick"].startswith("no pick is possible yet") and out["explanation"] == []
    assert cli.main(["recommend", str(run_dir), "--objective", "usd_per_mtoken", "--format", "markdown"]) == 0
    assert "Recommendation: usd_per_mtoken" in capsys.readouterr().out
    assert cli.main(["recommend", str(run_dir), "--memory-budget", "0.001"]) == 2
    assert "ruled out by memory budget" in capsys.readouterr().err


def test_bencher_and_pytest_benchmark(run_dir):
    assert cli.main(["export", str(run_dir), "--format", "bencher"]) == 0
    bmf = json.loads((run_dir / "bencher.json").read_text())  # {benchmark: {measure: {value, bounds}}}
    assert len(bmf) == 2
    for measures in bmf.values():
        assert measures["tokens_per_s"]["value"] > 0 and measures["usd_per_mtoken"]["value"] > 0
        assert all(set(m) <= {"value", "lower_value", "upper_value"} for m in measures.values())
    assert cli.main(["export", str(run_dir), "--format", "pytest-benchmark"]) == 0
    assert len(json.loads((run_dir / "pytest-benchmark.json").read_text())["benchmarks"]) == 2


def test_tensorboard(run_dir):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert cli.main(["export", str(run_dir), "--format", "tensorboard"]) == 0
    dirs = list((run_dir / "tensorboard").iterdir())
    assert len(dirs) == 2
    for d in dirs:
        acc = EventAccumulator(str(d)).Reload()
        assert acc.Scalars("tokens_per_s")[0].value > 0 and len(acc.Scalars("step_time_s")) == 5


def test_mlflow(run_dir):
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    assert cli.main(["export", str(run_dir), "--format", "mlflow"]) == 0
    mlflow.set_tracking_uri((run_dir / "mlruns").resolve().as_uri())
    runs = mlflow.search_runs(experiment_names=["answers"])
    assert len(runs) == 2 and set(runs["params.attention"]) == {"eager", "sdpa"}
    assert (runs["metrics.usd_per_mtoken"] > 0).all() and set(runs["params.price_per_gpu_hour"]) == {"2.5"}


def test_wandb(run_dir):
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    assert cli.main(["export", str(run_dir), "--format", "wandb"]) == 0
    logs = list((run_dir / "wandb" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(logs) == 2 and all(b"tokens_per_s" in p.read_bytes() for p in logs)


def test_estimate_shows_a_max_batch_config(capsys):
    assert cli.main(["estimate", str(FIXTURES / "answers.yaml"), "--device-memory", "80"]) == 0
    out = capsys.readouterr().out
    assert "batch_size=max" in out and "predicted)" in out


def test_ctrl_c_during_the_search_says_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(autobatch, "apply", interrupted)
    assert cli.main(["run", str(FIXTURES / "answers.yaml"), "-o", str(tmp_path / "r"), "-q"]) == 130
    assert f"benchbench run --resume {tmp_path / 'r'}" in capsys.readouterr().err
