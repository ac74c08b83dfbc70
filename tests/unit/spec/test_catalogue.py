"""The metric catalogue: every numeric column a built-in collector, engine or the worker writes is declared
(a real CPU row, its 2-rank merge, and the stored GPU rows of results/examples), every declaration is
well-formed, and the views read their columns from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchbench.spec import catalogue, metrics
from benchbench.spec.config import FIELDS, RunConfig
from benchbench.sweep import ranks

EXAMPLES = Path(__file__).resolve().parents[3] / "results" / "examples"


def undeclared(row: dict) -> list[str]:
    """The numeric columns of `row` (a number, or a list of numbers: the merge's per-rank lists) nothing declares."""
    def numeric(v):
        if isinstance(v, list):
            return bool(v) and all(numeric(x) for x in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    return sorted(k for k, v in row.items() if numeric(v) and k not in FIELDS and k not in catalogue.NOT_METRICS
                  and k not in catalogue.SERIES and catalogue.lookup(k) is None)


@pytest.fixture(scope="module")
def cpu_row():
    """One real measurement on the CPU: the worker, its default collectors and the profiler."""
    from benchbench.worker import measure

    cfg = RunConfig(model="gpt", model_size="tiny", device="cpu", warmup_steps=1, measured_steps=2, seq_len=32,
                    batch_size=2, profile=True)
    row = measure.run(cfg)
    assert row["status"] == "ok", row.get("reason")
    return row


def test_every_column_of_a_cpu_row_and_of_its_merge_is_declared(cpu_row):
    assert undeclared(cpu_row) == []
    merged = ranks.merge([cpu_row, {**cpu_row, "peak_rss_bytes": cpu_row["peak_rss_bytes"] + 1}], 2)
    assert merged["peak_rss_bytes_per_rank"] == [cpu_row["peak_rss_bytes"], cpu_row["peak_rss_bytes"] + 1]
    assert undeclared(merged) == []


def test_every_column_of_the_stored_gpu_rows_is_declared():
    """GPU rows (nvml, DeepSpeed, pipelines, several ranks) from the example runs."""
    missing, read = set(), 0
    for path in sorted(EXAMPLES.rglob("rows.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a torn line, as a killed run leaves
                continue
            read += 1
            missing |= {f"{k} ({path.relative_to(EXAMPLES)})" for k in undeclared(row)}
    assert read > 100 and sorted(missing) == []


def test_a_missing_declaration_is_found():
    assert undeclared({"tokens_per_s": 1.0, "new_thing_bytes": 3, "status": "ok", "repeat": 0}) == ["new_thing_bytes"]


def test_every_declaration_is_well_formed():
    for m in catalogue.every():
        assert m.merge in catalogue.MERGES and m.per_rank in ("", "list", "list+mean"), m.name
        assert set(m.views) <= set(catalogue.VIEWS) and set(m.export) <= set(catalogue.EXPORTS), m.name
        assert m.collector and m.name, m
        assert m.format.format(1.5), m.name
        if "table" in m.views or "report" in m.views:
            assert m.label, f"{m.name} is shown, so it has a header"
        if m.deterministic:
            assert m.merge in ("rank0", "max"), f"{m.name}: a deterministic value is one rank's"
        # a name whose suffix says higher is better (throughput, utilization) is declared so
        if m.name.endswith(metrics.HIGHER_IS_BETTER_SUFFIXES):
            assert m.higher_is_better, m.name
        if m.name.endswith(("_bytes", "_s")) and not m.name.endswith("_per_s"):
            assert not m.higher_is_better, m.name


def test_families_and_the_merges_columns_take_their_declaration():
    assert catalogue.lookup("step_time_s_p95").unit == "s" and catalogue.lookup("profile_share_matmul").collector == "profiler"
    per_rank = catalogue.lookup("gpu_util_pct_mean_per_rank")
    assert per_rank.higher_is_better and per_rank.merge == "derived" and per_rank.views == ()
    assert catalogue.lookup("tokens_per_s_per_rank") is None  # not kept per rank: nothing writes it
    assert catalogue.lookup("nothing_declares_this") is None and not metrics.higher_is_better("nothing_declares_this")
    assert metrics.higher_is_better("a_plugins_tokens_per_s")  # undeclared: the suffix says it


def test_the_merge_of_ranks_is_the_declared_one():
    assert {m.name for m in catalogue.every() if m.merge == "min"} == {
        "gpu_util_pct_mean", "mem_util_pct_mean", "sm_clock_mhz_mean", "sm_clock_mhz_min"}  # the least busy GPU
    assert catalogue.lookup("energy_j").merge == "sum" and catalogue.lookup("pp_bubble_measured").merge == "median"
    assert catalogue.lookup("peak_allocated_bytes").per_rank == "list+mean"


def test_the_views_list_their_metrics_in_order():
    assert [m.name for m in catalogue.shown_in("table")] == [
        "mfu", "energy_j_per_step", "scaling_efficiency", "usd_per_mtoken", "usd_per_msample",
        "energy_usd_per_mtoken", "energy_usd_per_msample"]
    assert catalogue.history_names() == ("tokens_per_s", "samples_per_s", "step_time_s", "mfu",
                                         "peak_allocated_bytes", "peak_rss_bytes")
    assert catalogue.exported_by("pytest-benchmark") == ["tokens_per_s", "samples_per_s"]
    assert catalogue.format_value("mfu", 0.4567) == "45.7%" and catalogue.format_value("mfu", float("nan")) == "-"
    assert catalogue.label("energy_j_per_step") == "J/step" and catalogue.label("n_params") == "n_params"
