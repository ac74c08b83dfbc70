"""The export registry and what every format shares: settings and metrics per config, the missing extra."""

import sys

import pytest

from benchbench import cli
from benchbench.present import export
from benchbench.present.export import common


def test_registry_and_the_cli_choices_agree():
    assert set(export.FORMATS) == set(cli.EXPORT_FORMATS)
    assert {f.extra for f in export.FORMATS.values()} == {None, "tensorboard", "mlflow", "wandb"}


def test_configs_carry_settings_metrics_and_steps(loaded):
    df, _, _ = loaded
    by = {c.config_id: c for c in common.configs(df)}
    assert set(by) == {"c1", "c2", "c3"}
    assert by["c2"].settings["attention"] == "sdpa" and by["c2"].status == "ok"
    assert by["c2"].metrics["tokens_per_s"] > by["c1"].metrics["tokens_per_s"] > 0
    assert len(by["c1"].step_times_s) == 40  # 2 repeats x 20 steps
    assert by["c3"].status == "oom" and by["c3"].metrics == {} and by["c3"].step_times_s == []


def test_a_missing_library_names_its_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import fails as when it is not installed
    with pytest.raises(export.ExportError, match=r"pip install 'benchbench\[mlflow\]'"):
        common.need("mlflow", "mlflow", "mlflow")
