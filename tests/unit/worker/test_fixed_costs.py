"""The worker's fixed costs in its row: the seconds around the measured steps, each named, adding up."""

from __future__ import annotations

import pytest

from benchbench.spec.config import RunConfig
from benchbench.worker import measure


def test_fixed_costs_from_a_fake_clock(monkeypatch):
    monkeypatch.setattr(measure, "_STARTED_AT", 1000.0)
    monkeypatch.setattr(measure.time, "time", lambda: 1030.0)  # 30 s after the process started
    d = measure.fixed_costs({"measured_s": 6.0}, measure_s=20.0)
    assert d == {"import_s": 10.0, "worker_s": 30.0, "measured_share": pytest.approx(0.2)}
    monkeypatch.setattr(measure.time, "time", lambda: 1010.0)  # a clock step back never gives a negative cost
    assert measure.fixed_costs({"measured_s": 1.0}, measure_s=20.0)["import_s"] == 0.0


def test_a_cpu_row_names_every_fixed_cost():
    cfg = RunConfig(model="gpt", model_size="tiny", device="cpu", warmup_steps=1, measured_steps=2, seq_len=32,
                    batch_size=2)
    row = measure.run(cfg)
    assert row["status"] == "ok", row.get("reason")
    for k in ("import_s", "device_init_s", "build_s", "setup_s", "warmup_s", "collectors_setup_s", "measured_s",
              "finish_s", "worker_s"):
        assert row[k] >= 0, k
    assert row["setup_s"] == pytest.approx(row["device_init_s"] + row["build_s"])
    parts = row["import_s"] + row["setup_s"] + row["warmup_s"] + row["collectors_setup_s"] + row["measured_s"] + row["finish_s"]
    assert parts <= row["worker_s"] + 1e-6  # the named parts lie inside the worker's time
    assert row["measured_share"] == pytest.approx(row["measured_s"] / row["worker_s"])
    assert 0 < row["measured_share"] < 1
