"""--format mlflow: one run per config in a local file store, read back by mlflow.search_runs."""

import pytest

from benchbench.present.export import mlflow_runs


def test_mlflow_runs_read_back_by_search_runs(loaded, tmp_path):
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    mlflow_runs.write(*loaded, tmp_path / "mlruns")
    mlflow.set_tracking_uri((tmp_path / "mlruns").resolve().as_uri())
    df = mlflow.search_runs(experiment_names=["quickstart"])
    assert len(df) == 3
    row = df[df["tags.benchbench.config_id"] == "c2"].iloc[0]
    assert row["params.attention"] == "sdpa" and row["metrics.tokens_per_s"] > 0
    assert row["tags.env.torch_version"] == "2.13.0+cpu"
    assert set(df["status"]) == {"FINISHED", "FAILED"}
    steps = mlflow.MlflowClient().get_metric_history(row["run_id"], "step_time_s")
    assert len(steps) == 40
