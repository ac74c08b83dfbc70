"""The Llama-style model: published shapes, FLOPs against a counter, rotary embeddings, grouped-query
attention, and the hooks the parallel engines use (pipeline stages, tensor-parallel plans)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from benchbench import models
from benchbench.models import llama
from benchbench.spec.config import RunConfig
from benchbench.techniques.attention import eager_attend

CPU = torch.device("cpu")
SMALL = {"n_layer": 3, "dim": 96, "n_head": 6, "n_kv_head": 2, "ffn_dim": 256, "vocab_size": 1000, "seq_len": 32}


def build(args=None, size="tiny", seq_len=None):
    torch.manual_seed(0)
    return llama.build(size, dict(args or {}), seq_len, None)


def batch(built, n=2, seed=0):
    return built.make_batch(n, torch.Generator().manual_seed(seed), CPU)


def test_parameter_counts_are_metas_with_an_untied_head():
    with torch.device("meta"):
        counts = {s: llama.build(s, {}, None, None).n_params for s in ("1b", "3b", "8b")}
    assert counts["8b"] == 8_030_261_248  # Llama 3.1 8B as published (its head is untied)
    # Llama 3.2 1B / 3B tie the head: published 1,235,814,400 / 3,212,749,824, plus one V x d matrix here
    assert counts["1b"] == 1_235_814_400 + 128256 * 2048
    assert counts["3b"] == 3_212_749_824 + 128256 * 3072
    for s in llama.SIZES:
        with torch.device("meta"):
            built = llama.build(s, {}, None, None)
        assert built.n_params == llama.n_params_analytic(built.model.config)


def test_flops_agree_with_the_counter():
    # Measured: tiny -0.19%, small -0.16%: 6N counts the RMSNorm weights as if they were matmuls.
    for args in ({}, SMALL):
        built = build(args)
        for m in built.model.modules():
            if hasattr(m, "attend"):
                m.attend = eager_attend  # the counter does not see the fused CPU attention kernel
        x, y = batch(built)
        with FlopCounterMode(display=False) as fc:
            built.model(x, y).backward()
        diff = fc.get_total_flops() / 2 / built.flops_per_sample - 1
        assert -0.005 < diff <= 0, f"llama {args}: counter vs analytic {diff:+.4%}"


def test_8b_flops_per_token_as_torchtitan_counts_them():
    with torch.device("meta"):
        built = llama.build("8b", {}, 8192, None)
    n, L, d, T, V = built.n_params, 32, 4096, 8192, 128256
    assert built.flops_per_sample / T == 6 * (n - V * d) + 12 * L * d * T


def test_trains_and_every_parameter_gets_a_gradient():
    built = build(SMALL)
    x, y = batch(built)
    loss = built.model(x, y)
    loss.backward()
    assert torch.isfinite(loss) and abs(loss.item() - torch.log(torch.tensor(1000.0)).item()) < 0.5
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in built.model.parameters())


def test_grouped_query_attention_has_fewer_key_value_heads():
    built = build(SMALL)
    att = built.model.blocks[0].attention
    assert att.wq.out_features == 96 and att.wk.out_features == att.wv.out_features == 2 * 16


def test_rotary_embedding_keeps_norms_and_makes_scores_depend_on_offsets_only():
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8).expand(1, 6, 1, 8), torch.randn(1, 1, 1, 8).expand(1, 6, 1, 8)
    rq, rk = llama.rotate(q), llama.rotate(k)
    assert torch.allclose(rq.norm(dim=-1), q.norm(dim=-1), atol=1e-5)
    scores = (rq[0, :, 0] @ rk[0, :, 0].T)  # positions 0..5 of the same vectors
    assert torch.allclose(torch.diagonal(scores, 1), torch.diagonal(scores, 1)[0].expand(5), atol=1e-5)
    assert torch.allclose(torch.diagonal(scores, 2), torch.diagonal(scores, 2)[0].expand(4), atol=1e-5)


def test_pipeline_stages_chained_give_the_models_loss():
    built = build(SMALL)
    x, y = batch(built)
    with torch.no_grad():
        whole = built.model(x, y)
        for n_stages in (1, 2, 3):
            h = x
            stages = [built.model.pipeline_stage(i, n_stages) for i in range(n_stages)]
            assert sum(len(s.blocks) for s in stages) == 3
            assert stages[0].tok_embeddings is not None and stages[-1].output is not None
            for s in stages:
                h = s(h)
            assert torch.equal(built.model.logits_loss(h, y), whole)
    with pytest.raises(ValueError, match="stage 4 of 4"):
        built.model.pipeline_stage(4, 4)


@pytest.mark.parametrize("sp", [False, True])
def test_tensor_parallel_plans_name_existing_modules(sp):
    model = build(SMALL).model
    root, block = model.tp_plan(sequence_parallel=sp)
    names = dict(model.named_modules())
    assert all(k in names for k in root)
    block_names = dict(model.blocks[0].named_modules())
    assert all(k in block_names for k in block)
    assert ("attention_norm" in block) == sp


def test_attention_hook_swaps_keep_the_loss():
    built = build(SMALL)
    x, y = batch(built)
    with torch.no_grad():
        before = built.model(x, y)
        for m in built.model.modules():
            if hasattr(m, "attend"):
                m.attend = eager_attend
        assert torch.allclose(built.model(x, y), before, atol=1e-5)


def test_bad_shapes_are_refused_with_the_reason():
    cfg = RunConfig(model="llama", model_size="tiny", seq_len=256)
    assert [f for f, _ in models.problems(cfg)] == ["seq_len"]
    cfg = RunConfig(model="llama", model_size="tiny", model_args={"n_kv_head": 3})
    assert "multiple of n_kv_head=3" in models.problems(cfg)[0][1]
    cfg = RunConfig(model="llama", model_size="tiny", model_args={"dim": 60})
    assert "even head size" in models.problems(cfg)[0][1]
    assert [f for f, _ in models.problems(RunConfig(model="llama", model_size="70b"))] == ["model_size"]
