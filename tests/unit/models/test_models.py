"""Reference models: they train on a CPU, their batches are reproducible, they follow the
conventions techniques rely on, and their analytic FLOPs agree with a FLOP counter.

The FLOP counter is torch.utils.flop_counter.FlopCounterMode over one forward + backward. It
counts matmuls, convolutions and (decomposed) attention, but not PyTorch's fused CPU attention
kernel, so attention runs as the eager function here (or on the meta device, where SDPA
decomposes into counted matmuls). The analytic count is below the counter's by design in one
place: it takes backward as 2x forward for every layer, while a layer whose input needs no
gradient (ViT's patch embedding, UNet's input conv and first time-MLP layer) has a 1x backward.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from benchbench import models
from benchbench.models import adapters, gpt, llama, unet, vit
from benchbench.spec.config import RunConfig
from benchbench.techniques.attention import eager_attend

CPU = torch.device("cpu")
GPT_SMALL = {"n_layer": 3, "n_embd": 96, "n_head": 4, "vocab_size": 1000, "seq_len": 32}

# (id, module, size, args, image_size): every reference model at a size that trains in well under a second
CASES = [
    ("gpt-tiny", gpt, "tiny", {}, None),
    ("gpt-small-override", gpt, "tiny", GPT_SMALL, None),
    ("llama-tiny", llama, "tiny", {}, None),
    ("vit-tiny", vit, "tiny", {}, None),
    ("unet-tiny", unet, "tiny", {}, None),
]


def build(mod, size="tiny", args=None, image_size=None, seq_len=None):
    torch.manual_seed(0)
    return mod.build(size, dict(args or {}), seq_len, image_size)


def batch(built, n=2, seed=0):
    return built.make_batch(n, torch.Generator().manual_seed(seed), CPU)


def eager(model):
    n = 0
    for m in model.modules():
        if hasattr(m, "attend"):
            m.attend = eager_attend
            n += 1
    return n


def counted_flops_per_sample(built, n=2) -> float:
    x, y = batch(built, n)
    with FlopCounterMode(display=False) as fc:
        built.model(x, y).backward()
    return fc.get_total_flops() / n


def rel(counted: float, analytic: float) -> float:
    return counted / analytic - 1


# ---------------------------------------------------------------- training on a CPU


@pytest.mark.parametrize("name,mod,size,args,image_size", CASES, ids=[c[0] for c in CASES])
def test_forward_backward_gives_a_finite_loss_and_every_gradient(name, mod, size, args, image_size):
    built = build(mod, size, args, image_size)
    x, y = batch(built, 2)
    loss = built.model(x, y)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    for pname, p in built.model.named_parameters():
        assert p.grad is not None, f"{name}: {pname} has no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: {pname} has a non-finite gradient"
    assert built.n_params == sum(p.numel() for p in built.model.parameters())


@pytest.mark.parametrize("name,mod,size,args,image_size", CASES, ids=[c[0] for c in CASES])
def test_make_batch_is_deterministic_for_a_seed(name, mod, size, args, image_size):
    built = build(mod, size, args, image_size)
    a, b, other = batch(built, 3, seed=7), batch(built, 3, seed=7), batch(built, 3, seed=8)
    for t1, t2 in zip(a, b):
        assert torch.equal(t1, t2)
    assert not all(torch.equal(t1, t2) for t1, t2 in zip(a, other))
    assert all(t.shape[0] == 3 for t in a)


@pytest.mark.parametrize("name,mod,size,args,image_size", CASES, ids=[c[0] for c in CASES])
def test_loss_is_a_function_of_the_batch_and_splits_into_micro_batches(name, mod, size, args, image_size):
    """No randomness inside forward: the mean loss of two half batches equals the full batch's
    (what gradient accumulation and technique-equivalence checks rely on)."""
    built = build(mod, size, args, image_size)
    x, y = batch(built, 4)
    full = built.model(x, y)
    halves = (built.model(x[:2], y[:2]) + built.model(x[2:], y[2:])) / 2
    torch.testing.assert_close(full, halves, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(built.model(x, y), full, rtol=0, atol=0)


# ---------------------------------------------------------------- conventions techniques rely on


@pytest.mark.parametrize("name,mod,size,args,image_size", CASES, ids=[c[0] for c in CASES])
def test_attention_modules_expose_attend_and_swapping_it_keeps_the_loss(name, mod, size, args, image_size):
    built = build(mod, size, args, image_size)
    attn = [m for m in built.model.modules() if hasattr(m, "attend")]
    assert attn and all(hasattr(m, "is_causal") for m in attn)
    assert all(m.is_causal for m in attn) == (mod in (gpt, llama))  # ViT and UNet attend to all positions
    x, y = batch(built, 2)
    sdpa = built.model(x, y)
    eager(built.model)
    torch.testing.assert_close(built.model(x, y), sdpa, rtol=1e-4, atol=1e-5)


def test_unet_blocks_take_two_inputs_and_can_each_be_checkpointed():
    """model.blocks are called block(h, temb) through model.blocks at call time, so wrapping each
    in a checkpoint (what checkpointing=full does) keeps loss and gradients."""
    from torch.utils.checkpoint import checkpoint

    class Ck(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return checkpoint(self.inner, *args, use_reentrant=False)

    ref, ck = build(unet), build(unet)
    assert len(ref.model.blocks) == 12  # tiny: 4 down, 3 middle, 5 up (ResBlocks and attention)
    x, y = batch(ref, 2)
    ref.model(x, y).backward()
    ck.model.blocks = torch.nn.ModuleList(Ck(b) for b in ck.model.blocks)
    ck.model(x, y).backward()
    for a, b in zip(ref.model.parameters(), ck.model.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-6)


def test_capability_flags():
    assert models.supports("gpt", "sequential_blocks") and models.supports("vit", "sequential_blocks")
    assert not models.supports("unet", "sequential_blocks")
    assert models.supports("unet", "checkpointing") and models.supports("unet", "attention")
    for spec in ("timm:resnet50", "torchvision:resnet50", "hf:gpt2"):
        for feature in ("checkpointing", "attention", "sequential_blocks"):
            assert not models.supports(spec, feature)


# ---------------------------------------------------------------- analytic FLOPs vs FlopCounterMode


def test_gpt_flops_agree_with_the_counter():
    # Measured: tiny -0.43%, small override -0.30%. 6N counts LayerNorm parameters as if they
    # were matmul weights (the counter does not); both count the full T×T attention square.
    for args, bound in (({}, 0.006), (GPT_SMALL, 0.005)):
        built = build(gpt, "tiny", args)
        assert eager(built.model) == built.model.config.n_layer
        diff = rel(counted_flops_per_sample(built), built.flops_per_sample)
        assert -bound < diff <= 0, f"gpt {args}: counter vs analytic {diff:+.4%}"


def test_vit_flops_agree_with_the_counter():
    # Measured: tiny (32px, patch 4, 65 tokens) -0.85%; at 16px (17 tokens, width 48) -1.19%:
    # the patch embedding's backward is 1x (images need no gradient), analytic says 2x.
    for image_size, args, bound in ((None, {}, 0.012), (16, {"n_embd": 48, "n_head": 3}, 0.015)):
        built = build(vit, "tiny", args, image_size)
        eager(built.model)
        diff = rel(counted_flops_per_sample(built), built.flops_per_sample)
        assert -bound < diff <= 0, f"vit {args} {image_size}: counter vs analytic {diff:+.4%}"


def test_unet_flops_agree_with_the_counter():
    # Measured: tiny -0.10%; tiny with 2 ResBlocks a level at 16px -0.08%: conv_in and the
    # first time-MLP layer have a 1x backward (their inputs need no gradient).
    for image_size, args, bound in ((None, {}, 0.003), (16, {"num_res_blocks": 2}, 0.003)):
        built = build(unet, "tiny", args, image_size)
        eager(built.model)
        diff = rel(counted_flops_per_sample(built, n=1), built.flops_per_sample)
        assert -bound < diff <= 0, f"unet {args} {image_size}: counter vs analytic {diff:+.4%}"


def meta_counted(mod, size, x_shape, x_dtype, y_shape, image_size=None, seq_len=None):
    """Build at full size on the meta device (no memory) and count one forward + backward of a
    batch of 1 there; SDPA decomposes into counted matmuls on meta."""
    with torch.device("meta"):
        built = mod.build(size, {}, seq_len, image_size)
        x = torch.zeros(x_shape, dtype=x_dtype)
        y = torch.zeros(y_shape, dtype=torch.long)
        with FlopCounterMode(display=False) as fc:
            built.model(x, y).backward()
    return built, float(fc.get_total_flops())


def test_gpt2_124m_flops_match_the_hand_formula_and_the_counter():
    built, counted = meta_counted(gpt, "124m", (1, 1024), torch.long, (1, 1024))
    L, d, T = 12, 768, 1024
    assert 124e6 < built.n_params < 125e6  # 124.39M with the vocabulary padded to 50304
    n = built.n_params - T * d  # the position table is not a matmul
    assert built.flops_per_sample == (6 * n + 12 * L * d * T) * T
    assert built.flops_per_sample == pytest.approx(875.4e9, rel=1e-3)
    assert built.tokens_per_sample == T
    # Measured: -0.027% (LayerNorm parameters in 6N).
    assert -0.001 < rel(counted, built.flops_per_sample) <= 0


def test_vit_b16_and_unet_cifar10_at_full_size_on_meta():
    vb, vcount = meta_counted(vit, "b16", (1, 3, 224, 224), torch.float32, (1,))
    assert vb.n_params == 86_567_656  # timm's vit_base_patch16_224
    assert vb.flops_per_sample == pytest.approx(105.38e9, rel=1e-3)  # 3 x 35.1 GFLOPs forward
    assert -0.003 < rel(vcount, vb.flops_per_sample) <= 0  # measured -0.22%
    ub, ucount = meta_counted(unet, "cifar10", (1, 2, 3, 32, 32), torch.float32, (1,))
    assert round(ub.n_params / 1e6, 1) == 35.7  # DDPM's CIFAR-10 model, as the paper states
    assert -0.001 < rel(ucount, ub.flops_per_sample) <= 0  # measured -0.019%


# ---------------------------------------------------------------- sizes, shapes, validation


@pytest.mark.parametrize("mod", [gpt, llama, vit, unet], ids=["gpt", "llama", "vit", "unet"])
def test_every_size_builds_on_meta(mod):
    """What estimate.py does for every config before a run."""
    for size in mod.SIZES:
        with torch.device("meta"):
            built = mod.build(size, {}, None, None)
        assert built.flops_per_sample > 0 and built.n_params > 0
        assert (built.tokens_per_sample is None) == (mod not in (gpt, llama))


def test_published_parameter_counts():
    with torch.device("meta"):
        counts = {s: vit.build(s, {}, None, None).n_params for s in ("s16", "l16")}
        base = unet.build("base", {}, None, None).n_params
    assert counts == {"s16": 22_050_664, "l16": 304_326_632}  # timm's vit_small/large_patch16_224
    assert round(base / 1e6) == 114  # DDPM's LSUN / CelebA-HQ model, as the paper states


def test_image_size_overrides_the_resolution():
    v = build(vit, "tiny", image_size=16)
    assert v.model.pos_embed.shape[1] == (16 // 4) ** 2 + 1
    assert batch(v)[0].shape == (2, 3, 16, 16)
    u = build(unet, "tiny", image_size=16)
    assert batch(u)[0].shape == (2, 2, 3, 16, 16)
    assert u.flops_per_sample < build(unet).flops_per_sample
    with torch.device("meta"):  # the UNet's weights do not depend on the resolution
        assert unet.build("base", {}, None, 256).n_params == unet.build("base", {}, None, 64).n_params


def test_bad_shapes_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="not divisible by patch_size"):
        vit.build("tiny", {}, None, 30)
    with pytest.raises(ValueError, match="not divisible by n_head"):
        vit.build("tiny", {"n_head": 3}, None, None)
    with pytest.raises(ValueError, match="image_size=15 must be divisible by 2"):
        unet.build("tiny", {}, None, 15)


def test_bf16_parameters_take_fp32_batches():
    """precision=bf16-pure casts the model, not the batch."""
    for mod in (vit, unet):
        built = build(mod)
        built.model.to(torch.bfloat16)
        loss = built.model(*batch(built, 1))
        assert torch.isfinite(loss)


def test_problems_name_unknown_sizes_and_arguments():
    assert models.problems(RunConfig(model="vit", model_size="b16")) == []
    assert models.problems(RunConfig(model="unet", model_size="cifar10", model_args={"ch": 64})) == []
    (fld, msg), = models.problems(RunConfig(model="unet", model_size="huge"))
    assert fld == "model_size" and "allowed: tiny, cifar10, base" in msg
    (fld, msg), = models.problems(RunConfig(model="vit", model_args={"depth": 2}))
    assert fld == "model_args" and "allowed: image_size, patch_size" in msg
    (fld, msg), = models.problems(RunConfig(model="resnet"))
    assert "timm:<name>" in msg and "hf:<model_type>" in msg


# ---------------------------------------------------------------- library models (adapters)


def test_adapter_specs_look_like_model_modules():
    mod = models.module("timm:resnet50")
    assert isinstance(mod, adapters.Adapter)
    assert mod.SIZES == {"default": {}} and mod.ARGS == ()
    assert models.module("hf:gpt2").library == "hf" and models.module("hf:gpt2").name == "gpt2"
    assert not adapters.is_adapter("gpt") and not adapters.is_adapter("py:x.y")


@pytest.mark.parametrize("spec,package", [("timm:resnet50", "timm"), ("torchvision:resnet50", "torchvision"),
                                          ("hf:gpt2", "transformers")])
def test_a_missing_library_is_a_clear_problem(spec, package, monkeypatch):
    real = adapters.importlib.util.find_spec
    monkeypatch.setattr(adapters.importlib.util, "find_spec", lambda n, *a: None if n == package else real(n, *a))
    msg = f"model {spec} needs the package '{package}' (pip install {package})"
    assert models.problems(RunConfig(model=spec, model_size="default")) == [("model", msg)]
    with pytest.raises(ImportError, match=re_escape(msg)):
        models.build(RunConfig(model=spec, model_size="default"))


def test_adapter_problems_for_size_args_and_an_empty_name():
    assert models.problems(RunConfig(model="hf:", model_size="default")) == [
        ("model", "model 'hf:' names no model; write hf:<name>")]
    if models.module("hf:gpt2").missing() is None:
        probs = models.problems(RunConfig(model="hf:gpt2", model_args={"n_layer": 2}))
        assert [f for f, _ in probs] == ["model_size", "model_args"]
        assert "allowed: default" in probs[0][1] and "allowed: none" in probs[1][1]


def test_hf_gpt2_builds_trains_and_counts_flops():
    pytest.importorskip("transformers")
    T = 64
    built = models.build(RunConfig(model="hf:gpt2", model_size="default", seq_len=T))
    assert type(built.model.net).__name__ == "GPT2LMHeadModel"
    assert 124e6 < built.n_params < 125e6 and built.tokens_per_sample == T
    x, y = batch(built, 2)
    loss = built.model(x, y)
    assert math.isfinite(loss.item())
    loss.backward()
    # Counted on the meta device; the hand formula with N = parameters - position table:
    # measured -0.10% at T=64 and 1024 (LayerNorm and bias parameters in 6N).
    n = built.n_params - 1024 * 768
    hand = (6 * n + 12 * 12 * 768 * T) * T
    assert -0.002 < rel(built.flops_per_sample, hand) <= 0


def re_escape(s: str) -> str:
    import re

    return re.escape(s)
