import math

import pytest

from benchbench.analysis import cost
from tests.fixtures import runs


def test_usd_per_mtoken_from_price_throughput_and_world_size():
    rows = runs.frame(runs.row("a", step_times=[0.1] * 10, tokens_per_step=1000, world_size=2))
    out = cost.with_cost(rows, price_per_gpu_hour=3.6)
    # 10_000 tokens/s on 2 GPUs at $3.6/GPU-hour: $0.002/s -> $0.2 per million tokens
    assert out["usd_per_mtoken"].iloc[0] == pytest.approx(0.2)
    assert "usd_per_msample" not in out  # a token model is priced per token only
    assert "energy_usd_per_mtoken" not in out


def test_models_without_tokens_are_priced_per_million_samples():
    vit = {**runs.row("vit", step_times=[0.1] * 10), "tokens_per_step": None, "tokens_per_s": None}
    rows = runs.frame(vit,
                      runs.row("gpt", step_times=[0.1] * 10, tokens_per_step=1000))
    out = cost.with_cost(rows, price_per_gpu_hour=3.6).set_index("config_id")
    # 8 samples a step, 80 samples/s at $0.001/s -> $12.5 per million samples
    assert out.loc["vit", "usd_per_msample"] == pytest.approx(12.5)
    assert math.isnan(out.loc["vit", "usd_per_mtoken"]) and math.isnan(out.loc["gpt", "usd_per_msample"])


def test_energy_part_from_price_per_kwh():
    rows = runs.frame(runs.row("a", tokens_per_step=1000, energy_j_per_step=3600.0))
    out = cost.with_cost(rows, price_per_kwh=0.5)
    # 3.6 J/token = 1e-6 kWh/token -> 1 kWh per million tokens -> $0.5
    assert out["energy_usd_per_mtoken"].iloc[0] == pytest.approx(0.5)
    assert "usd_per_mtoken" not in out


def test_rows_own_price_setting_and_argument_wins():
    rows = runs.frame(runs.row("a", step_times=[0.1] * 10, tokens_per_step=1000, price_per_gpu_hour=3.6))
    assert cost.with_cost(rows)["usd_per_mtoken"].iloc[0] == pytest.approx(0.1)
    assert cost.with_cost(rows, price_per_gpu_hour=7.2)["usd_per_mtoken"].iloc[0] == pytest.approx(0.2)


def test_failed_rows_get_nan_and_bad_price_is_an_error():
    rows = runs.frame(runs.row("a"), runs.row("b", status="oom"))
    out = cost.with_cost(rows, price_per_gpu_hour=2.0)
    assert math.isnan(out["usd_per_mtoken"].iloc[1])
    with pytest.raises(cost.CostError, match="price_per_gpu_hour"):
        cost.with_cost(rows, price_per_gpu_hour=-1)
