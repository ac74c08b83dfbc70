"""--format bencher: Bencher Metric Format JSON, checked against its documented shape
({benchmark: {measure: {value, lower_value?, upper_value?}}}, numbers only)."""

import json

import pytest

from benchbench.present.export import bencher


def test_bencher_metric_format(loaded, tmp_path):
    said = bencher.write(*loaded, tmp_path / "out" / "bencher.json")
    data = json.loads((tmp_path / "out" / "bencher.json").read_text())
    assert "2 benchmarks" in said
    # the oom config has no values: Bencher has no "failed" measure, so it is left out
    assert set(data) == {"quickstart[precision=fp32,attention=eager]", "quickstart[precision=fp32,attention=sdpa]"}
    for measures in data.values():
        assert {"tokens_per_s", "step_time_s", "peak_rss_bytes"} <= set(measures)
        for m in measures.values():
            assert set(m) <= {"value", "lower_value", "upper_value"} and "value" in m
            assert all(isinstance(v, float) for v in m.values())
            if "lower_value" in m:
                assert m["lower_value"] <= m["value"] <= m["upper_value"]


def test_nothing_ok_is_an_export_error(loaded, tmp_path):
    df, run, env = loaded
    with pytest.raises(bencher.ExportError, match="no config ran ok"):
        bencher.write(df[df["status"] != "ok"], run, env, tmp_path / "b.json")
