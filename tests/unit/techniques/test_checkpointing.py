"""checkpointing=selective_op: torchtitan's op-level policy saves every other matmul and the attention kernels'
outputs, so backward recomputes fewer matmuls than under full checkpointing, with the same gradients."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.checkpoint import CheckpointPolicy

from benchbench import models, techniques
from benchbench.spec.config import RunConfig
from benchbench.techniques import checkpointing
from benchbench.worker.device import DeviceInfo

CPU = DeviceInfo("cpu", "test-cpu")
LLAMA = {"n_layer": 2, "dim": 32, "n_head": 4, "n_kv_head": 2, "ffn_dim": 64, "vocab_size": 64, "seq_len": 16}
MM = torch.ops.aten.mm.default


def test_the_policy_saves_every_other_matmul_alike_in_forward_and_recompute():
    def decisions(recompute: bool, funcs):
        policy, ctx = checkpointing.op_policy(), SimpleNamespace(is_recompute=recompute)
        return [policy(ctx, f) for f in funcs]

    funcs = [MM, torch.ops.aten.add.Tensor, MM, MM, torch.ops.aten._scaled_dot_product_flash_attention_for_cpu.default]
    save, recompute = CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_RECOMPUTE
    assert decisions(False, funcs) == [save, recompute, recompute, save, save]
    assert decisions(True, funcs) == decisions(False, funcs)


class CountMatmuls(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.n = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.n += func is MM
        return func(*args, **(kwargs or {}))


def backward_matmuls(mode: str) -> tuple[int, list[torch.Tensor]]:
    cfg = RunConfig(model="llama", model_size="tiny", model_args=LLAMA, checkpointing=mode)
    torch.manual_seed(0)
    built = models.build(cfg)
    model = techniques.apply(built.model, cfg, CPU)
    x, y = built.make_batch(2, torch.Generator().manual_seed(1), "cpu")
    loss = model(x, y)
    with CountMatmuls() as counter:
        loss.backward()
    return counter.n, [p.grad for p in model.parameters()]


def test_selective_op_recomputes_fewer_matmuls_than_full_with_the_same_gradients():
    n_none, g_none = backward_matmuls("none")
    n_full, _ = backward_matmuls("full")
    n_op, g_op = backward_matmuls("selective_op")
    # 7 matmuls a block (wq, wk, wv, wo, w1, w3, w2): full recomputes 6 (the recompute stops early: w2's output
    # is not needed for backward), selective_op only the 3 it did not save (wk, wo, w3)
    assert (n_full - n_none, n_op - n_none) == (2 * 6, 2 * 3)
    for a, b in zip(g_none, g_op):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_selective_op_wraps_every_block():
    cfg = RunConfig(model="llama", model_size="tiny", model_args=LLAMA, checkpointing="selective_op")
    model = techniques.apply(models.build(cfg).model, cfg, CPU)
    assert [(type(b).__name__, b.selective) for b in model.blocks] == [("Checkpointed", True)] * 2


@pytest.mark.parametrize("model, args", [("gpt", {"n_layer": 2, "n_embd": 32, "n_head": 2, "vocab_size": 64, "seq_len": 16}),
                                         ("llama", LLAMA)])
def test_selective_op_under_autocast_gives_a_loss(model, args):
    cfg = RunConfig(model=model, model_size="tiny", model_args=args, checkpointing="selective_op", precision="bf16")
    torch.manual_seed(0)
    built = models.build(cfg)
    m = techniques.apply(built.model, cfg, CPU)
    x, y = built.make_batch(2, torch.Generator().manual_seed(1), "cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = m(x, y)
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in m.parameters())
