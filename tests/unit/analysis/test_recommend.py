import pytest

from benchbench.analysis import recommend as rec
from benchbench.basics.units import GIB
from tests.fixtures import runs


def _rows():
    # baseline (eager fp32), sdpa alone, bf16 alone, and the pick (sdpa + bf16)
    return runs.frame(
        *runs.config("base", 0.20, repeats=3, seed=1, rss=1 * GIB),
        *runs.config("sdpa", 0.15, repeats=3, seed=2, attention="sdpa", rss=1 * GIB),
        *runs.config("bf16", 0.12, repeats=3, seed=3, precision="bf16", rss=2 * GIB),
        *runs.config("both", 0.08, repeats=3, seed=4, attention="sdpa", precision="bf16", rss=3 * GIB),
    )


def test_ranks_by_objective_and_explains_each_differing_setting():
    r = rec.recommend(_rows(), baseline_id="base")
    assert r.pick == "both"
    assert list(r.ranked["config_id"]) == ["both", "bf16", "sdpa", "base"]
    assert list(r.ranked["rank"]) == [1, 2, 3, 4]
    by = {e["setting"]: e for e in r.explanation}
    assert set(by) == {"all", "attention", "precision"}
    assert by["attention"]["config_id"] == "sdpa" and by["attention"]["verdict"] == "faster"
    assert by["precision"]["config_id"] == "bf16" and by["precision"]["pick_value"] == "bf16"
    assert by["all"]["ratio"] == pytest.approx(2.5, rel=0.05)


def test_configs_within_noise_are_a_tie_and_the_pick_is_the_leaner():
    rows = runs.frame(*runs.config("a", 0.100, repeats=3, seed=1, rss=3 * GIB),
                      *runs.config("b", 0.1005, repeats=3, seed=2, attention="sdpa", rss=1 * GIB),
                      *runs.config("c", 0.2, repeats=3, seed=3, precision="bf16", rss=1 * GIB))
    r = rec.recommend(rows, baseline_id="c")
    ranks = dict(zip(r.ranked["config_id"], r.ranked["rank"]))
    assert ranks["a"] == ranks["b"] == 1 and ranks["c"] == 2
    assert r.ranked.set_index("config_id").loc["a", "tie"]
    assert r.pick == "b"  # tied on throughput, less memory
    assert dict(zip(r.ranked["config_id"], r.ranked["on_front"])) == {"a": False, "b": True, "c": False}


def test_memory_budget_excludes_exactly_the_configs_above_it():
    r = rec.recommend(_rows(), baseline_id="base", memory_budget_bytes=2 * GIB)
    assert set(r.ranked["config_id"]) == {"base", "sdpa", "bf16"}  # 2 GiB is within the budget
    assert list(r.excluded["config_id"]) == ["both"]
    assert r.excluded["constraint"].iloc[0] == "memory budget"
    assert r.pick == "bf16"


def test_predicted_peak_rules_out_only_without_a_measured_one():
    rows = runs.frame(*runs.config("a", 0.1, rss=float("nan"), predicted_peak_bytes=5 * GIB),
                      *runs.config("b", 0.2, attention="sdpa", rss=1 * GIB, predicted_peak_bytes=9 * GIB))
    r = rec.recommend(rows, memory_budget_bytes=4 * GIB)
    assert list(r.ranked["config_id"]) == ["b"]
    assert "predicted peak" in r.excluded["detail"].iloc[0]


def test_unmeasured_and_failed_configs_are_never_ranked():
    rows = runs.frame(*runs.config("a", 0.1), runs.row("b", status="oom", attention="sdpa"))
    r = rec.recommend(rows)
    assert list(r.ranked["config_id"]) == ["a"]
    assert r.excluded.set_index("config_id").loc["b", "constraint"] == "status ok"


def test_nothing_qualifies_names_the_last_constraint():
    with pytest.raises(rec.RecommendError, match="memory budget"):
        rec.recommend(_rows(), memory_budget_bytes=0.5 * GIB)
    rows = runs.frame(*runs.config("a", 0.1, world_size=8), *runs.config("b", 0.1, attention="sdpa", world_size=4))
    with pytest.raises(rec.RecommendError, match="gpus.*world_size 8 > 2"):
        rec.recommend(rows, gpus=2)
    rows = runs.frame(*runs.config("a", 0.1, numerics="diverged"))
    with pytest.raises(rec.RecommendError, match="numerics"):
        rec.recommend(rows, require_numerics=True)


def test_cost_objective_ranks_cheapest_first_and_needs_a_price():
    rows = runs.frame(*runs.config("one", 0.1, world_size=1), *runs.config("two", 0.06, attention="sdpa", world_size=2))
    with pytest.raises(rec.RecommendError, match="--price"):
        rec.recommend(rows, objective="usd_per_mtoken")
    r = rec.recommend(rows, objective="usd_per_mtoken", price_per_gpu_hour=2.0)
    assert r.objective == "usd_per_mtoken" and not r.higher_is_better
    assert r.pick == "one"  # two GPUs at 1.67x the speed cost more per token
    assert rec.recommend(rows, objective="tokens_per_s").pick == "two"


def test_unknown_objective():
    with pytest.raises(rec.RecommendError, match="allowed: tokens_per_s"):
        rec.recommend(_rows(), objective="speed")


def test_too_few_repeats_is_unranked_and_no_pick():
    # 2x apart, but 2 repeats a side: the repeats cannot separate them, so neither is ranked nor picked
    rows = runs.frame(*runs.config("a", 0.1, repeats=2, seed=1, rss=2 * GIB),
                      *runs.config("b", 0.2, repeats=2, seed=2, attention="sdpa", rss=1 * GIB))
    r = rec.recommend(rows, baseline_id="a")
    assert list(r.ranked["rank"]) == [0, 0] and not r.ranked["tie"].any() and not any(r.ranked["on_front"])
    assert all("1 more would let the repeats separate it" in v for v in r.ranked["versus_above"])
    assert r.pick is None and r.no_pick.startswith("no pick is possible yet") and r.explanation == []


def test_an_unranked_config_measured_better_blocks_the_pick():
    rows = runs.frame(*runs.config("a", 0.10, repeats=3, seed=1), *runs.config("b", 0.12, repeats=3, seed=2, attention="sdpa"),
                      *runs.config("c", 0.08, repeats=1, seed=3, precision="bf16"))
    r = rec.recommend(rows)
    assert r.pick is None and "precision=bf16" in r.no_pick and "too few repeats" in r.no_pick
    ranks = dict(zip(r.ranked["config_id"], r.ranked["rank"]))
    assert ranks == {"c": 0, "a": 1, "b": 2}


def test_undecided_at_the_top_is_no_pick_and_a_clear_leader_is_picked():
    noisy = runs.frame(*runs.config("a", 0.100, repeats=3, seed=1, repeat_spread=0.04, rss=2 * GIB),
                       *runs.config("b", 0.103, repeats=3, seed=2, repeat_spread=0.04, attention="sdpa", rss=1 * GIB))
    r = rec.recommend(noisy)
    assert r.pick is None and "cannot be separated" in r.no_pick
    clear = runs.frame(*runs.config("a", 0.100, repeats=3, seed=1, rss=2 * GIB),
                       *runs.config("b", 0.115, repeats=3, seed=2, attention="sdpa", rss=1 * GIB))
    assert rec.recommend(clear).pick == "a"  # 15% faster beats 1 GiB less memory


def test_reference_rows_without_the_compiled_config_never_pick_a_slower_one():
    from pathlib import Path

    from benchbench.store import results
    d = Path(__file__).resolve().parents[3] / "results" / "examples" / "reference-h200" / "run"
    if not (d / "rows.jsonl").exists():
        pytest.skip("reference rows not in this checkout")
    df = results.load(d)
    df = df[df["compile"] != "default"]
    r = rec.recommend(df)
    fastest = df.groupby("config_id")["tokens_per_s"].median().idxmax()
    assert r.pick in (None, fastest) and (r.pick or r.no_pick.startswith("no pick is possible yet"))
