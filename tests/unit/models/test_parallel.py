"""The models' parallelism hooks in one process: splitting or staging a GPT keeps its math."""

from __future__ import annotations

import torch

from benchbench import models
from benchbench.models import gpt
from benchbench.spec.config import RunConfig

SHAPE = {"n_layer": 3, "n_embd": 32, "n_head": 4, "seq_len": 16, "vocab_size": 64}


def build(**args):
    torch.manual_seed(0)
    return gpt.build("tiny", {**SHAPE, **args}, None, None)


def test_separate_qkv_and_an_untied_head_keep_the_loss():
    b = build()
    x, y = b.make_batch(2, torch.Generator().manual_seed(0), torch.device("cpu"))
    before = b.model(x, y)
    root, block = b.model.tp_plan(sequence_parallel=False)
    assert b.model.lm_head.weight is not b.model.wte.weight  # untied: a copy
    assert all(blk.attn.qkv is None for blk in b.model.blocks) and {"attn.q", "attn.k", "attn.v"} <= set(block)
    assert torch.equal(b.model(x, y), before)
    assert build().model.blocks[0].attn.qkv is not None  # the fused projection stays outside TP


def test_pipeline_stages_chain_to_the_whole_model():
    b = build(tie_weights=0)
    x, y = b.make_batch(2, torch.Generator().manual_seed(0), torch.device("cpu"))
    stages = [b.model.pipeline_stage(i, 2) for i in range(2)]
    assert [len(s.blocks) for s in stages] == [2, 1]  # the first stages take the extra block
    out = x
    for s in stages:
        out = s(out)
    assert torch.allclose(b.model.logits_loss(out, y), b.model(x, y))


def test_tie_weights_0_starts_from_the_same_values_and_counts_flops_once():
    tied, untied = build(), build(tie_weights=0)
    assert torch.equal(untied.model.lm_head.weight, tied.model.lm_head.weight)
    assert untied.n_params == tied.n_params + 64 * 32 and untied.flops_per_sample == tied.flops_per_sample
    assert models.problems(RunConfig(model_args={"tie_weights": 2}))[0][1].startswith("tie_weights: 2; allowed: 1")


def test_tp_problems_and_the_meta_model():
    model = models.meta_model(RunConfig(model_size="124m"))
    assert next(model.parameters()).is_meta
    assert model.tp_problem(4) is None and model.tp_problem(8) == (
        "n_head=12 is not divisible by tp_size=8 (each rank holds whole heads)")
