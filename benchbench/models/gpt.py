"""A nanoGPT-style decoder (GPT-2 shapes), random weights, synthetic tokens.

The model knows nothing of techniques. Two conventions let techniques act on it:
  * `model.blocks` is the sequence of residual blocks, applied in order;
  * every attention module calls `self.attend(q, k, v, is_causal)` on (B, heads, T, head_dim)
    tensors, so the attention technique swaps that function and checkpointing can wrap it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbench.models.common import Built, sdpa_attend

# GPT-2 shapes (Radford et al. 2019); vocab padded to 50304 (a multiple of 64) as nanoGPT does.
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(n_layer=2, n_head=2, n_embd=64, seq_len=64, vocab_size=512),
    "124m": dict(n_layer=12, n_head=12, n_embd=768, seq_len=1024, vocab_size=50304),
    "350m": dict(n_layer=24, n_head=16, n_embd=1024, seq_len=1024, vocab_size=50304),
    "774m": dict(n_layer=36, n_head=20, n_embd=1280, seq_len=1024, vocab_size=50304),
    "1.5b": dict(n_layer=48, n_head=25, n_embd=1600, seq_len=1024, vocab_size=50304),
}
ARGS = ("n_layer", "n_head", "n_embd", "seq_len", "vocab_size")


@dataclass
class GPTConfig:
    n_layer: int
    n_head: int
    n_embd: int
    seq_len: int
    vocab_size: int


class CausalSelfAttention(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd, bias=False)
        self.proj = nn.Linear(c.n_embd, c.n_embd, bias=False)
        self.attend = sdpa_attend
        self.is_causal = True

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = self.attend(q, k, v, self.is_causal)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=False)
        self.proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=False)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.n_embd)
        self.attn = CausalSelfAttention(c)
        self.ln2 = nn.LayerNorm(c.n_embd)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.config = c
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.seq_len, c.n_embd)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd)
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as GPT-2
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def flops_per_sample(c: GPTConfig, n_params: int, seq_len: int) -> float:
    """Training FLOPs (forward + backward) per sequence: (6·N + 12·L·d·T) · T.

    N counts every parameter but the position embedding (the tied token embedding is the
    lm_head matmul). 6N per token is the dense matmuls' 2 FLOPs per multiply-add, times 3 for
    forward + backward; 12·L·d·T per token is QKᵀ and AV over the full T×T square. This is
    PaLM's appendix B formula as nanoGPT's estimate_mfu and torchtitan use it; it is the same
    for every technique (recomputation and causal-mask savings are not counted), so MFU compares.
    """
    n = n_params - c.seq_len * c.n_embd
    return (6 * n + 12 * c.n_layer * c.n_embd * seq_len) * seq_len


def check(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> list[tuple[str, str]]:
    """(setting, problem) for shapes this model cannot take: a sequence longer than its context, an image size."""
    shape = {**SIZES.get(size, SIZES["tiny"]), **args}
    out = []
    if seq_len and seq_len > shape["seq_len"]:
        out.append(("seq_len", f"{seq_len} is longer than gpt {size}'s context of {shape['seq_len']} tokens; use "
                               f"seq_len <= {shape['seq_len']} or widen the model (model: {{seq_len: {seq_len}}})"))
    if image_size is not None:
        out.append(("image_size", "gpt takes tokens, not images: image_size has no effect on it"))
    return out


def build(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> Built:
    shape = {**SIZES[size], **args}
    problems = check(size, args, seq_len, None)
    if problems:
        raise ValueError(f"gpt: {problems[0][0]}={problems[0][1]}")
    T = seq_len or shape["seq_len"]
    c = GPTConfig(**shape)
    if c.n_embd % c.n_head:
        raise ValueError(f"gpt: n_embd={c.n_embd} is not divisible by n_head={c.n_head}")
    model = GPT(c)
    n_params = sum(p.numel() for p in model.parameters())

    def make_batch(batch_size: int, gen: torch.Generator, device: torch.device):
        tokens = torch.randint(0, c.vocab_size, (batch_size, T + 1), generator=gen)
        tokens = tokens.to(device, non_blocking=True)
        return tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()

    return Built(
        model=model,
        make_batch=make_batch,
        flops_per_sample=flops_per_sample(c, n_params, T),
        tokens_per_sample=T,
        n_params=n_params,
    )
