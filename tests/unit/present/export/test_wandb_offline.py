"""--format wandb: one offline run per config, in wandb's own run directories."""

import pytest

from benchbench.present.export import wandb_offline


def test_wandb_offline_run_directories(loaded, tmp_path):
    """wandb keeps an offline run in its binary transaction log (run-*.wandb, protobuf records; config
    values JSON-encoded) until `wandb sync` uploads it, and ships no reader for it: the test checks
    one offline run per config and that each log holds its config and metrics."""
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    wandb_offline.write(*loaded, tmp_path / "wandb")
    offline = sorted((tmp_path / "wandb" / "wandb").glob("offline-run-*"))
    assert len(offline) == 3
    logs = {}
    for d in offline:
        [log] = d.glob("run-*.wandb")
        data = log.read_bytes()
        cid = next(c for c in ("c1", "c2", "c3") if f'"{c}"'.encode() in data)
        logs[cid] = data
    assert set(logs) == {"c1", "c2", "c3"}
    assert b'"sdpa"' in logs["c2"] and b"tokens_per_s" in logs["c2"] and b"step_time_s" in logs["c2"]
    assert b"tokens_per_s" not in logs["c3"]  # the oom config has no metrics
