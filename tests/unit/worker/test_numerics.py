"""numerics.py: the verdict arithmetic, the reference config, and the check in a real (tiny, CPU)
worker: fp32 and bf16 pass, accumulation matches one big batch, a broken technique is caught."""

import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from benchbench.analysis import gate
from benchbench.analysis import summary as tables
from benchbench.spec.config import RunConfig
from benchbench.techniques import attention
from benchbench.worker import measure as worker
from benchbench.worker import numerics
from tests.fixtures import runs as fx

TINY = dict(model="gpt", model_size="tiny", model_args={"n_layer": 2, "n_embd": 64, "n_head": 2}, seq_len=32,
            batch_size=4, device="cpu", warmup_steps=0, measured_steps=1, collect=[], numerics_steps=15)


def test_verdict_arithmetic():
    u = torch.tensor([1.0, 2.0, 3.0])
    same = numerics.compare([2.0, 1.0], [2.0, 1.0], u, u, "fp32")
    assert same["numerics"] == "ok" and same["numerics_max_rel_loss_dev"] == 0 and same["numerics_update_cosine"] == pytest.approx(1)
    # |1.005 - 1| / 1 = 0.005 > fp32's 1e-4, within bf16's 1e-2
    assert numerics.compare([2.0, 1.005], [2.0, 1.0], u, u, "fp32")["numerics"] == "diverged"
    assert numerics.compare([2.0, 1.005], [2.0, 1.0], u, u, "bf16")["numerics"] == "ok"
    flipped = numerics.compare([2.0, 1.0], [2.0, 1.0], u, -u, "bf16")
    assert flipped["numerics"] == "diverged" and flipped["numerics_update_cosine"] == pytest.approx(-1)
    assert "update cosine -1.0000 < 0.96" in flipped["numerics_reason"]
    nan = numerics.compare([2.0, math.nan], [2.0, 1.0], u, u, "bf16")
    assert nan["numerics"] == "diverged" and nan["numerics_max_rel_loss_dev"] == math.inf


def test_reference_config_folds_accumulation_into_one_batch():
    cfg = RunConfig(**{**TINY, "precision": "bf16", "attention": "sdpa", "checkpointing": "full", "grad_accum": 4,
                       "batch_size": 2})
    ref = numerics.reference_config(cfg)
    assert (ref.precision, ref.attention, ref.checkpointing, ref.grad_accum, ref.batch_size) == ("fp32", "eager", "none", 1, 8)
    assert ref.numerics_steps == 0 and ref.config_id != cfg.config_id
    own = numerics.reference_config(cfg.model_copy(update={"numerics_reference": {"attention": "sdpa"}}))
    assert own.attention == "sdpa" and own.precision == "fp32"


def test_the_reference_may_be_bf16():
    """fp8 is compared with bf16 (numerics: {reference: {precision: bf16}}): the recipe, an fp8-only setting,
    and the FSDP policy settings do not follow the config into the reference."""
    cfg = RunConfig(**{**TINY, "precision": "fp8", "fp8_recipe": "rowwise", "engine": "fsdp", "fsdp_reduce_dtype": "bf16",
                       "numerics_reference": {"precision": "bf16"}})
    ref = numerics.reference_config(cfg)
    assert (ref.precision, ref.fp8_recipe, ref.engine, ref.fsdp_reduce_dtype) == ("bf16", "tensorwise", "torch", "fp32")
    fp8_ref = numerics.reference_config(cfg.model_copy(update={"numerics_reference": {"precision": "fp8"}}))
    assert fp8_ref.fp8_recipe == "rowwise"  # fp8 against fp8 (e.g. eager): the same recipe
    assert numerics.compare([2.0, 1.02], [2.0, 1.0], torch.ones(3), torch.ones(3), "fp8")["numerics"] == "ok"


def test_bf16_against_a_bf16_reference():
    r = checked(precision="bf16", attention="sdpa", numerics_reference={"precision": "bf16"})
    assert r["numerics_reference_config"] == "precision=bf16, attention=eager"
    assert r["numerics"] == "ok" and r["numerics_max_rel_loss_dev"] < numerics.TOLERANCES["bf16"].max_rel_loss_dev
    assert checked(precision="bf16", attention="sdpa")["numerics_reference_config"].startswith("precision=fp32")


def test_several_ranks_are_unchecked():
    cfg = RunConfig(**{**TINY, "engine": "ddp", "world_size": 2})
    assert numerics.check(cfg, setup=None)["numerics"] == "unchecked"


def checked(**kw) -> dict:
    r = worker.run(RunConfig(**{**TINY, **kw}))
    assert r["status"] == "ok", r.get("reason")
    assert len(r["numerics_losses"]) == len(r["numerics_reference_losses"]) == TINY["numerics_steps"]
    return r


def test_fp32_against_the_fp32_reference_passes():
    r = checked(precision="fp32", attention="sdpa", checkpointing="full")
    assert r["numerics"] == "ok" and r["numerics_max_rel_loss_dev"] < 1e-5 and r["numerics_update_cosine"] > 0.9999
    assert r["numerics_losses"][-1] < r["numerics_losses"][0]   # it trained


def test_accumulation_sees_the_same_samples_as_the_reference():
    r = checked(precision="fp32", attention="eager", grad_accum=2, batch_size=2)
    assert r["numerics_max_rel_loss_dev"] < 1e-5, r["numerics_losses"][:3]


def test_bf16_passes_within_its_tolerance():
    r = checked(precision="bf16", attention="sdpa")
    assert r["numerics"] == "ok" and 0 < r["numerics_max_rel_loss_dev"] < numerics.TOLERANCES["bf16"].max_rel_loss_dev


def test_a_broken_technique_is_caught(monkeypatch):
    def no_causal_mask(q, k, v, is_causal):   # a "faster attention" that forgot the mask: sees the next token
        return F.scaled_dot_product_attention(q, k, v, is_causal=False)

    monkeypatch.setattr(attention, "sdpa_attend", no_causal_mask)
    r = checked(precision="fp32", attention="sdpa")
    assert r["numerics"] == "diverged" and r["numerics_update_cosine"] < 0.95, r["numerics_reason"]


def test_diverged_in_tables_and_gate(tmp_path):
    base_rows = fx.config("c0", 0.1, numerics="ok", numerics_max_rel_loss_dev=1e-6) + \
        fx.config("c1", 0.1, seed=1, attention="sdpa", numerics="ok", numerics_max_rel_loss_dev=1e-6)
    run_rows = fx.config("c0", 0.1, numerics="ok", numerics_max_rel_loss_dev=1e-6) + \
        fx.config("c1", 0.1, seed=1, attention="sdpa", numerics="diverged", numerics_max_rel_loss_dev=0.3,
                  numerics_reason="max relative loss deviation 0.3 > 0.001 (fp32 tolerance)")
    t = tables.summary(pd.DataFrame(run_rows)).set_index("config_id")
    assert t.loc["c1", "numerics"] == "diverged" and t.loc["c1", "reason"].startswith("numerics diverged: max relative")
    assert t.loc["c0", "numerics"] == "ok"
    nt = gate.numerics_table(pd.DataFrame(base_rows), pd.DataFrame(run_rows)).set_index("config_id")
    assert bool(nt.loc["c1", "worse"]) and nt.loc["c1", "verdict"] == "numerics diverged"
    assert not nt.loc["c0", "worse"]
    # already diverged in the baseline: a known state, not a regression
    assert not gate.numerics_table(pd.DataFrame(run_rows), pd.DataFrame(run_rows))["worse"].any()
    assert gate.numerics_table(pd.DataFrame(base_rows).drop(columns="numerics"), pd.DataFrame(base_rows)
                               .drop(columns="numerics")) is None


def test_the_fp8_tolerance_holds_the_measured_rows():
    """The committed H200 rows the fp8 limits come from: fp8 against bf16 within them (with the loss limit at
    least 5x the deviation seen), and bf16 against bf16 within bf16's."""
    import json
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).resolve().parents[3] / "results" / "examples" / "llama-fp8-h200"
                                          / "eager" / "rows.jsonl").read_text().splitlines() if line.strip()]
    for precision in ("fp8", "bf16"):
        tol = numerics.TOLERANCES[precision]
        seen = [r for r in rows if r["precision"] == precision and r["status"] == "ok"]
        assert len(seen) == 3
        assert all(r["numerics_update_cosine"] >= tol.min_update_cosine for r in seen), precision
        assert all(r["numerics_max_rel_loss_dev"] <= tol.max_rel_loss_dev for r in seen), precision
        if precision == "fp8":
            assert max(r["numerics_max_rel_loss_dev"] for r in seen) * 5 <= tol.max_rel_loss_dev
