"""The Llama's rotary embeddings compute the function of the plain formulation they replaced: a complex product
over a table made once (eager) or the real arithmetic (compiled), against angles computed at every call; the
model's loss and gradients with either. fp32 on the CPU, same weights and tokens."""

from __future__ import annotations

import torch

from benchbench.models import llama

SMALL = {"n_layer": 3, "dim": 96, "n_head": 6, "n_kv_head": 2, "ffn_dim": 256, "vocab_size": 1000, "seq_len": 32}


def plain_rotate(x):
    """The earlier formulation: angles for the T at hand, halves rotated in fp32, cast back."""
    T, D = x.shape[1], x.shape[-1]
    inv_freq = 1.0 / llama.ROPE_THETA ** (torch.arange(0, D, 2, dtype=torch.float32, device=x.device) / D)
    angles = torch.outer(torch.arange(T, dtype=torch.float32, device=x.device), inv_freq)
    cos, sin = angles.cos()[None, :, None, :], angles.sin()[None, :, None, :]
    x1, x2 = x.float().chunk(2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).type_as(x)


def loss_and_grads(model, x, y):
    model.zero_grad(set_to_none=True)
    loss = model(x, y)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


def built_small():
    torch.manual_seed(0)
    built = llama.build("tiny", dict(SMALL), None, None)
    x, y = built.make_batch(2, torch.Generator().manual_seed(1), torch.device("cpu"))
    return built.model, x, y


def test_fast_forward_and_backward_match_the_plain_formulation(monkeypatch):
    model, x, y = built_small()
    fast_loss, fast_grads = loss_and_grads(model, x, y)
    monkeypatch.setattr(llama, "rotate", plain_rotate)
    plain_loss, plain_grads = loss_and_grads(model, x, y)
    assert torch.allclose(fast_loss, plain_loss, rtol=0, atol=1e-5)
    for a, b in zip(fast_grads, plain_grads):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not torch.equal(plain_rotate(x.float()[..., None, None].expand(2, 32, 1, 8)),
                           x.float()[..., None, None].expand(2, 32, 1, 8))  # the reference does rotate


def test_each_rotation_path_matches_the_plain_one_in_fp32_and_bf16(monkeypatch):
    torch.manual_seed(0)
    x = torch.randn(2, 16, 3, 8)
    assert torch.allclose(llama.rotate(x), plain_rotate(x), atol=1e-6)
    xb = x.bfloat16()
    assert torch.equal(llama.rotate(xb), plain_rotate(xb))  # fp32 inside, the same bf16 rounding after
    assert llama.rotate(xb).dtype == torch.bfloat16 and llama.rotate(xb).is_contiguous()
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)  # the path the compiler traces
    assert torch.allclose(llama.rotate(x), plain_rotate(x), atol=1e-6)


def test_the_table_is_made_once_per_shape_and_device():
    a = llama.rotary_table(16, 8, torch.device("cpu"))
    assert llama.rotary_table(16, 8, torch.device("cpu")) is a
    assert a.shape == (16, 4) and a.dtype == torch.complex64
    assert llama.rotary_table(32, 8, torch.device("cpu")).shape == (32, 4)
    with torch.inference_mode():
        t = llama.rotary_table(24, 8, torch.device("cpu"))
    assert not t.is_inference()  # usable in training after an inference-mode first call


def test_the_compiled_path_reads_the_tables_made_at_build(monkeypatch):
    built_small()  # builds on the CPU: its tables are there
    cos, sin = llama._COS_SIN[(32, 16, "cpu", None)]
    assert cos.shape == sin.shape == (32, 8)
    x = torch.randn(2, 32, 3, 16)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert torch.allclose(llama.rotate(x), plain_rotate(x), atol=1e-6)
    monkeypatch.setitem(llama._COS_SIN, (32, 16, "cpu", None), (torch.ones(32, 8), torch.zeros(32, 8)))
    assert torch.equal(llama.rotate(x), x)  # the identity rotation from the table: the table was read
