"""tables.summary from stored rows: speedup vs the baseline, status over repeats, varying axes."""

import math

import pandas as pd
import pytest
from rich.console import Console

from benchbench.analysis import summary as tables
from benchbench.present import terminal
from benchbench.spec.config import RunConfig
from benchbench.store import results

RUN = {"run_id": "r", "suite": "t"}
FP32 = RunConfig(device="cpu", precision="fp32", repeats=2)
BF16 = RunConfig(device="cpu", precision="bf16", repeats=2)
EAGER = RunConfig(device="cpu", precision="bf16", attention="eager", repeats=2)


def ok(thr, step=0.1, rss=1000, **kw):
    return {"status": "ok", "tokens_per_s": thr, "samples_per_s": thr / 100, "step_time_s_median": step,
            "peak_rss_bytes": rss, **kw}


def frame(*rows):
    return pd.DataFrame([results.make_row(RUN, cfg, rep, res) for cfg, rep, res in rows])


def test_speedup_median_and_cv():
    df = frame((FP32, 0, ok(100.0, 0.2, 1000)), (BF16, 0, ok(240.0, 0.1, 3000)),
               (FP32, 1, ok(300.0, 0.4, 2000)), (BF16, 1, ok(160.0, 0.3, 500)))
    t = tables.summary(df, baseline_id=FP32.config_id)
    assert list(t["config_id"]) == [FP32.config_id, BF16.config_id]
    assert list(t["tokens_per_s"]) == [200.0, 200.0]  # median over repeats
    assert list(t["speedup"]) == [1.0, 1.0]
    assert list(t["step_time_s_median"]) == pytest.approx([0.3, 0.2])
    assert list(t["peak_memory_bytes"]) == [2000, 3000]  # the worst repeat
    assert list(t["repeats_ok"]) == ["2/2", "2/2"]
    # std(ddof=1) of (100, 300) is 141.42; / mean 200
    assert t["run_to_run_cv"].iloc[0] == pytest.approx(141.4213562 / 200)
    assert t.attrs["axes"] == ["precision"] and t.attrs["throughput"] == "tokens_per_s"


def test_speedup_is_relative_to_the_named_baseline():
    df = frame((FP32, 0, ok(100.0)), (BF16, 0, ok(250.0)), (EAGER, 0, ok(50.0)))
    t = tables.summary(df, baseline_id=BF16.config_id)
    assert list(t["speedup"]) == [0.4, 1.0, 0.2]
    assert t.attrs["baseline_id"] == BF16.config_id
    unknown = tables.summary(df, baseline_id="not-a-config")  # falls back to the first config
    assert list(unknown["speedup"]) == [1.0, 2.5, 0.5]


def test_status_over_repeats_is_the_worst_with_its_reason():
    df = frame((FP32, 0, ok(100.0)), (BF16, 0, ok(200.0)), (EAGER, 0, {"status": "skipped", "reason": "no kernel"}),
               (FP32, 1, ok(120.0)), (BF16, 1, {"status": "timeout", "reason": "no result after timeout_s=5"}),
               (EAGER, 1, {"status": "skipped", "reason": "no kernel"}))
    t = tables.summary(df, FP32.config_id).set_index("config_id")
    assert t.loc[FP32.config_id, "status"] == "ok" and t.loc[FP32.config_id, "reason"] == ""
    assert t.loc[BF16.config_id, "status"] == "timeout"
    assert t.loc[BF16.config_id, "reason"] == "no result after timeout_s=5"
    assert t.loc[BF16.config_id, "repeats_ok"] == "1/2"
    assert t.loc[BF16.config_id, "tokens_per_s"] == 200.0  # the repeat that finished still counts
    assert t.loc[EAGER.config_id, "status"] == "skipped" and math.isnan(t.loc[EAGER.config_id, "speedup"])


@pytest.mark.parametrize("statuses,expected", [
    (["ok", "error"], "error"), (["oom", "ok", "killed"], "killed"), (["timeout", "oom"], "timeout"),
    (["ok", "skipped"], "skipped"), (["ok", "ok"], "ok"), (["weird", "ok"], "weird"),
])
def test_status_precedence(statuses, expected):
    assert tables.worst_status(pd.Series(statuses)) == expected


def test_a_setting_null_in_one_config_and_set_in_another_varies(tmp_path):
    """engine: fsdp with fsdp_param_dtype null (the policy from precision) next to fsdp_param_dtype: fp32, read
    back through results.load (string columns keep null as missing); null and NaN are the same."""
    a = RunConfig(device="cpu", engine="fsdp", precision="bf16")
    b = RunConfig(device="cpu", engine="fsdp", precision="bf16", fsdp_param_dtype="fp32")
    for i, c in enumerate((a, b)):
        results.append(tmp_path, results.make_row({"run_id": "r", "suite": "s"}, c, 0, ok(1.0 + i)))
    assert tables.varying_axes(results.load(tmp_path)) == ["fsdp_param_dtype"]
    df = pd.DataFrame([{"config_id": "a", "grad_clip": None}, {"config_id": "b", "grad_clip": float("nan")}])
    assert tables.varying_axes(df) == []


def test_varying_axes_ignore_what_is_constant_and_not_in_the_id():
    a = RunConfig(device="cpu", batch_size=4, timeout_s=10)
    b = RunConfig(device="cpu", batch_size=8, timeout_s=20, repeats=3, attention="eager")
    df = frame((a, 0, ok(1.0)), (b, 0, ok(2.0)))
    assert tables.varying_axes(df) == ["batch_size", "attention"]  # RunConfig order; timeout_s and repeats are no axes


def test_samples_per_s_when_no_config_has_tokens():
    df = frame((FP32, 0, {"status": "ok", "samples_per_s": 4.0}), (BF16, 0, {"status": "ok", "samples_per_s": 8.0}))
    t = tables.summary(df)
    assert t.attrs["throughput"] == "samples_per_s" and list(t["speedup"]) == [1.0, 2.0]


def test_memory_kind_is_one_for_the_whole_table():
    """The first config failed; the others measured allocator peaks: the column must say allocator."""
    df = frame((FP32, 0, {"status": "oom", "reason": "CUDA out of memory"}),
               (BF16, 0, ok(1.0, peak_allocated_bytes=5 * 2**20, rss=2**30)),
               (EAGER, 0, ok(1.0, peak_allocated_bytes=7 * 2**20, rss=2**30)))
    t = tables.summary(df)
    assert set(t["peak_memory_kind"]) == {"allocator"}
    assert list(t["peak_memory_bytes"].iloc[1:]) == [5 * 2**20, 7 * 2**20]


def test_all_failed_and_empty():
    df = frame((FP32, 0, {"status": "error", "reason": "boom"}))
    t = tables.summary(df)
    assert t["status"].iloc[0] == "error" and math.isnan(t["samples_per_s"].iloc[0])
    assert tables.summary(df.iloc[0:0]).empty


def render_text(t) -> str:
    console = Console(width=250, record=True, color_system=None)
    console.print(terminal.render(t, title="t"))
    return console.export_text()


def test_render_marks_the_baseline_and_shows_reasons_verbatim():
    df = frame((FP32, 0, ok(1000.0, 0.0123, 3 * 2**20)),
               (BF16, 0, {"status": "error", "reason": "shape '[2, 3]' is invalid for [/bold] input"}))
    text = render_text(tables.summary(df, FP32.config_id))
    assert "1.00x (base)" in text and "12.30" in text and "3.0 MiB" in text and "1,000" in text
    assert "error shape '[2, 3]' is invalid for [/bold] input" in text  # not read as markup


def test_table_of_a_run_whose_only_row_is_torn(tmp_path):
    (tmp_path / results.ROWS).write_text('{"schema_version": 1, "config_id": "ab')
    df = results.load(tmp_path)
    t = tables.summary(df)
    assert t.empty
    assert "t" in render_text(t)


def test_render_a_status_it_does_not_know():
    df = frame((FP32, 0, ok(1.0)), (BF16, 0, {"status": "preempted", "reason": "spot instance [reclaimed]"}))
    text = render_text(tables.summary(df))
    assert "preempted spot instance [reclaimed]" in text


def test_scaling_efficiency_against_the_same_config_at_one_rank():
    one, two, four = (RunConfig(device="cpu", engine="ddp", world_size=n) for n in (1, 2, 4))
    fsdp2 = RunConfig(device="cpu", engine="fsdp", world_size=2)  # no one-rank twin
    df = frame((one, 0, ok(100.0)), (two, 0, ok(180.0)), (four, 0, ok(300.0)), (fsdp2, 0, ok(150.0)))
    t = tables.summary(df).set_index("config_id")["scaling_efficiency"]
    assert math.isnan(t[one.config_id]) and math.isnan(t[fsdp2.config_id])
    assert t[two.config_id] == pytest.approx(0.9) and t[four.config_id] == pytest.approx(0.75)


def test_cost_columns_from_the_rows_price():
    fp32, bf16 = (c.model_copy(update={"price_per_gpu_hour": 3.6}) for c in (FP32, BF16))
    df = frame((fp32, 0, ok(1000.0)), (bf16, 0, ok(2000.0)))
    t = tables.summary(df, fp32.config_id).set_index("config_id")
    # $3.6 per GPU hour = $0.001 per second; 1000 tokens/s -> $1 per million tokens
    assert t.loc[fp32.config_id, "usd_per_mtoken"] == pytest.approx(1.0)
    assert t.loc[bf16.config_id, "usd_per_mtoken"] == pytest.approx(0.5)
    assert "$/M tokens" in render_text(tables.summary(df))
    unpriced = tables.summary(frame((FP32, 0, ok(1000.0))))
    assert unpriced["usd_per_mtoken"].isna().all() and "$/M" not in render_text(unpriced)  # no price, no cost
