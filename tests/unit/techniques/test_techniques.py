"""Techniques must not change the math (beyond their stated tolerance), and must say when they cannot run."""

from __future__ import annotations

import pytest
import torch

from benchbench import engines, models, techniques
from benchbench.plan import feasibility
from benchbench.spec.config import RunConfig
from benchbench.techniques import attention, optimizer
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
H100 = DeviceInfo("cuda", "NVIDIA H100 80GB HBM3", (9, 0), 1)
V100 = DeviceInfo("cuda", "Tesla V100-SXM2-16GB", (7, 0), 1)
SMALL = {"n_layer": 4, "n_embd": 32, "n_head": 2, "seq_len": 16, "vocab_size": 64}


def cfg(**kw) -> RunConfig:
    return RunConfig(model_args=SMALL, **kw)


def build(c: RunConfig, dev=CPU):
    torch.manual_seed(0)
    built = models.build(c)
    model = techniques.apply(built.model, c, dev)
    return built, model


def batch(built, n, seed=1):
    return built.make_batch(n, torch.Generator().manual_seed(seed), torch.device("cpu"))


def grads(model):
    return [p.grad.clone() for p in model.parameters()]


# ---------------------------------------------------------------- gradient accumulation


def test_accumulated_micro_batches_step_like_one_large_batch():
    """4 micro-batches of 2 with loss/4 give the update of one batch of 8 (fp32, SGD)."""
    big_cfg, acc_cfg = cfg(optimizer="sgd", lr=0.1), cfg(optimizer="sgd", lr=0.1, grad_accum=4)
    built, big = build(big_cfg)
    x, y = batch(built, 8)
    engines.build(big_cfg, big, lambda m: optimizer.build(m, big_cfg, CPU), CPU).step([(x, y)])

    _, acc = build(acc_cfg)
    micro = [(x[i : i + 2], y[i : i + 2]) for i in range(0, 8, 2)]
    engines.build(acc_cfg, acc, lambda m: optimizer.build(m, acc_cfg, CPU), CPU).step(micro)

    before = [p.detach().clone() for p in build(big_cfg)[1].parameters()]
    for p0, a, b in zip(before, big.parameters(), acc.parameters()):
        assert not torch.equal(p0, a)  # the step moved the weights
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_accumulation_without_loss_scaling_would_differ():
    """The check above can fail: without dividing by N the update is N times larger."""
    c = cfg(optimizer="sgd", lr=0.1)
    built, model = build(c)
    x, y = batch(built, 8)
    model(x, y).backward()
    one = grads(model)
    model.zero_grad()
    for i in range(0, 8, 2):
        model(x[i : i + 2], y[i : i + 2]).backward()
    summed = grads(model)
    assert not torch.allclose(one[0], summed[0], rtol=1e-3)
    torch.testing.assert_close([g / 4 for g in summed], one, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- checkpointing


@pytest.mark.parametrize("mode", ["full", "every_k", "sqrt", "selective"])
def test_checkpointing_gives_the_same_gradients(mode):
    built, ref = build(cfg())
    x, y = batch(built, 3)
    ref(x, y).backward()
    _, ck = build(cfg(checkpointing=mode))
    assert any("Checkpointed" in type(m).__name__ for m in ck.modules()) or mode == "selective"
    ck(x, y).backward()
    assert len(grads(ck)) == len(grads(ref))
    for a, b in zip(grads(ref), grads(ck)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_checkpointing_layouts():
    def wrapped(mode, k=2):
        _, m = build(cfg(checkpointing=mode, checkpoint_k=k))
        return [type(b).__name__ for b in m.blocks]

    assert wrapped("full") == ["Checkpointed"] * 4
    assert wrapped("every_k", 2) == ["Checkpointed", "Block", "Checkpointed", "Block"]
    assert wrapped("every_k", 3) == ["Checkpointed", "Block", "Block", "Checkpointed"]
    assert wrapped("sqrt") == ["Checkpointed", "Checkpointed"]  # ceil(sqrt(4)) = 2 blocks per segment
    assert wrapped("selective") == ["Block"] * 4


def test_checkpointing_saves_activations():
    """Fewer tensors saved for backward with full checkpointing than with none."""

    def saved(mode):
        built, m = build(cfg(checkpointing=mode))
        x, y = batch(built, 4)
        count = [0]

        def pack(t):
            count[0] += t.numel()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            m(x, y)
        return count[0]

    assert saved("full") < 0.7 * saved("none")


# ---------------------------------------------------------------- attention


def qkv(dtype=torch.float32, device="cpu", T=16, head_dim=8):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(2, 2, T, head_dim, generator=g).to(device, dtype).requires_grad_() for _ in range(3)]


@pytest.mark.parametrize("name", ["sdpa", "flash"])
@pytest.mark.parametrize("causal", [True, False])
def test_cpu_attention_variants_match_eager(name, causal):
    ref_in, test_in = qkv(), qkv()
    ref = attention.eager_attend(*ref_in, causal)
    out = attention.attend_fn(name)(*test_in, causal)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    ref.square().sum().backward()
    out.square().sum().backward()
    for a, b in zip(ref_in, test_in):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-5)


def test_eager_attention_is_causal():
    q, k, v = qkv()
    out = attention.eager_attend(q, k, v, True)
    v2 = v.detach().clone()
    v2[:, :, -1] += 100.0  # the last key's value only reaches the last query
    out2 = attention.eager_attend(q, k, v2, True)
    torch.testing.assert_close(out[:, :, :-1], out2[:, :, :-1])
    assert not torch.allclose(out[:, :, -1], out2[:, :, -1])


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["sdpa", "flash", "mem_efficient", "cudnn", "flex"])
def test_gpu_attention_variants_match_eager(name):
    ref_in, test_in = qkv(torch.bfloat16, "cuda", 256, 64), qkv(torch.bfloat16, "cuda", 256, 64)
    ref = attention.eager_attend(*ref_in, True)
    out = attention.attend_fn(name)(*test_in, True)
    torch.testing.assert_close(out.float(), ref.float(), rtol=2e-2, atol=2e-2)
    ref.float().square().sum().backward()
    out.float().square().sum().backward()
    for a, b in zip(ref_in, test_in):
        torch.testing.assert_close(b.grad.float(), a.grad.float(), rtol=5e-2, atol=5e-2)


def test_attention_technique_replaces_every_attend():
    _, m = build(cfg(attention="eager"))
    fns = [mod.attend for mod in m.modules() if hasattr(mod, "attend")]
    assert len(fns) == 4 and all(f is attention.eager_attend for f in fns)


def test_selective_checkpointing_wraps_the_chosen_attention():
    """Order: attention is applied before checkpointing, so recomputation runs the chosen kernel."""
    calls = []
    orig = attention.eager_attend

    def spy(*a):
        calls.append(1)
        return orig(*a)

    attention.eager_attend = spy
    try:
        built, m = build(cfg(attention="eager", checkpointing="selective"))
        x, y = batch(built, 2)
        m(x, y).backward()
    finally:
        attention.eager_attend = orig
    assert len(calls) == 8  # 4 layers: forward once, recomputed once in backward


# ---------------------------------------------------------------- precision


def test_fp16_grad_scaler_survives_an_overflow():
    """An inf loss: the step is skipped, the scale halves, the weights stay finite and unchanged."""
    c = cfg(precision="fp16", optimizer="sgd", lr=0.1)
    built, model = build(c)

    class Overflow(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.blow_up = inner, False

        def forward(self, x, y):
            loss = self.inner(x, y)
            return loss * float("inf") if self.blow_up else loss

    wrapped = Overflow(model)
    engine = engines.build(c, wrapped, lambda m: optimizer.build(m, c, CPU), CPU)
    data = [batch(built, 2)]
    engine.step(data)
    before = [p.detach().clone() for p in model.parameters()]
    wrapped.blow_up = True
    engine.step(data)
    after = [p.detach().clone() for p in model.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    f = engine.fields()
    assert f["grad_scale_reductions"] == 1 and f["grad_scale_final"] == 65536.0 / 2
    wrapped.blow_up = False
    engine.step(data)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(after, model.parameters()))


def test_bf16_pure_keeps_fp32_master_weights():
    c = cfg(precision="bf16-pure", lr=1e-3)
    built, model = build(c)
    assert all(p.dtype == torch.bfloat16 for p in model.parameters())
    engine = engines.build(c, model, lambda m: optimizer.build(m, c, CPU), CPU)
    opt = engine.optimizer
    for _ in range(3):
        engine.step([batch(built, 2)])
    for low, master in zip(opt.low, opt.master):
        assert master.dtype == torch.float32
        torch.testing.assert_close(low.float(), master, rtol=1e-2, atol=1e-2)
        assert torch.equal(low, master.to(torch.bfloat16))


def test_ema_tracks_the_weights():
    c = cfg(optimizer="sgd", lr=0.1, ema_decay=0.9)
    built, model = build(c)
    start = [p.detach().clone() for p in model.parameters()]
    hooks = techniques.step_hooks(model, c)
    engine = engines.build(c, model, lambda m: optimizer.build(m, c, CPU), CPU, hooks)
    engine.step([batch(built, 2)])
    ema = hooks[0].__self__
    for s0, p, e in zip(start, model.parameters(), ema.shadow):
        torch.testing.assert_close(e, 0.9 * s0 + 0.1 * p.detach())


# ---------------------------------------------------------------- skip decisions


@pytest.mark.parametrize(
    "settings, dev, expected",
    [
        ({"precision": "fp16"}, CPU, "precision=fp16 (autocast + GradScaler) is a CUDA technique"),
        ({"precision": "tf32"}, CPU, "precision=tf32 needs NVIDIA tensor cores"),
        ({"precision": "bf16"}, V100, "precision=bf16 needs compute capability 8.0+; Tesla V100-SXM2-16GB has 7.0"),
        ({"attention": "flash", "precision": "fp32"}, H100, "attention=flash needs fp16 or bf16 inputs"),
        ({"attention": "mem_efficient"}, CPU, "attention=mem_efficient: PyTorch has no CPU kernel"),
        ({"attention": "cudnn"}, CPU, "attention=cudnn: PyTorch has no CPU kernel"),
        ({"world_size": 2}, H100, "world_size=2 needs a distributed engine"),
        ({"optimizer": "sgd", "optimizer_impl": "fused"}, CPU, "optimizer=sgd with optimizer_impl=fused has no CPU kernel"),
    ],
)
def test_skip_reasons(settings, dev, expected):
    assert feasibility.skip_reason(RunConfig(**settings), dev).startswith(expected)


@pytest.mark.parametrize(
    "settings, dev",
    [({"precision": "bf16"}, CPU), ({"precision": "fp16"}, H100), ({"attention": "flash", "precision": "bf16"}, H100),
     ({"attention": "flash"}, CPU), ({"checkpointing": "sqrt"}, CPU)],
)
def test_runnable_configs_are_not_skipped(settings, dev):
    assert feasibility.skip_reason(RunConfig(**settings), dev) is None
