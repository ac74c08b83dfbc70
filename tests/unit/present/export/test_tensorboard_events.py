"""--format tensorboard: event files read back by TensorBoard's own EventAccumulator."""

import pytest

from benchbench.present.export import tensorboard_events


def test_tensorboard_read_back_by_event_accumulator(loaded, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tensorboard_events.write(*loaded, tmp_path / "tb")
    dirs = sorted(p for p in (tmp_path / "tb").iterdir() if p.is_dir())
    assert len(dirs) == 3  # one run per config, the oom one too (its settings and status)
    acc = EventAccumulator(str(next(d for d in dirs if "sdpa" in d.name))).Reload()
    assert {"tokens_per_s", "step_time_s", "peak_rss_bytes"} <= set(acc.Tags()["scalars"])
    assert acc.Scalars("tokens_per_s")[0].value > 0
    assert len(acc.Scalars("step_time_s")) == 40  # 2 repeats x 20 steps
    assert "config/text_summary" in acc.Tags()["tensors"]
