"""The folder exports (tensorboard, mlflow, wandb) fail mid-way: the export that was there is as it was
(every file, byte for byte), no partial one takes its place, no temporary folder is left beside it."""

import errno
import os

import pytest

from benchbench.present.export import mlflow_runs, tensorboard_events, wandb_offline
from tests.fault.conftest import contract

FORMATS = {"tensorboard": (tensorboard_events, "tensorboard"), "mlflow": (mlflow_runs, "mlflow"),
           "wandb": (wandb_offline, "wandb")}


def _files(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failure_mid_export_keeps_the_old_export(bb, good_run, tmp_path, monkeypatch, fmt):
    module, library = FORMATS[fmt]
    pytest.importorskip(library, reason=f"the {library} extra is not installed")
    out = tmp_path / "out"
    rc, _, err = bb("export", good_run, "--format", fmt, "-o", out)
    assert rc == 0, err
    before = _files(out)
    assert before
    real, calls = module.env_tags, []

    def second_config_fails(env):  # each format asks for the machine's tags once per config
        calls.append(1)
        if len(calls) == 2:  # the first config is written by now
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(env)

    monkeypatch.setattr(module, "env_tags", second_config_fails)
    rc, _, err = bb("export", good_run, "--format", fmt, "-o", out)
    contract(rc, err, out)
    assert len(calls) == 2 and _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good", "out"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_into_a_new_folder_that_fails_leaves_nothing(bb, good_run, tmp_path, monkeypatch, fmt):
    module, library = FORMATS[fmt]
    pytest.importorskip(library, reason=f"the {library} extra is not installed")

    def fails(env):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(module, "env_tags", fails)
    rc, _, err = bb("export", good_run, "--format", fmt, "-o", tmp_path / "new")
    contract(rc, err, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good"]


def test_a_second_mlflow_export_adds_to_the_store_it_replaced(bb, good_run, tmp_path):
    """Written beside and renamed: the file store's artifact locations name the final folder, and the runs
    of the first export are still there."""
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    out = tmp_path / "mlruns"
    for _ in range(2):
        rc, _, err = bb("export", good_run, "--format", "mlflow", "-o", out)
        assert rc == 0 and out.resolve().as_uri() in err, err
    client = mlflow.MlflowClient(tracking_uri=out.resolve().as_uri())
    exp = client.get_experiment_by_name("quickstart")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 4 and exp.artifact_location.startswith(out.resolve().as_uri())
    assert all(r.info.artifact_uri.startswith(out.resolve().as_uri()) for r in runs)
    assert ".tmp" not in "".join(p.read_text() for p in out.rglob("meta.yaml"))
