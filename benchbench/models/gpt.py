"""A nanoGPT-style decoder (GPT-2 shapes), random weights, synthetic tokens.

The model knows nothing of techniques. Two conventions let techniques act on it:
  * `model.blocks` is the sequence of residual blocks, applied in order;
  * every attention module calls `self.attend(q, k, v, is_causal)` on (B, heads, T, head_dim)
    tensors, so the attention technique swaps that function and checkpointing can wrap it.

Two hooks let engines split it over ranks (docs/parallelism.md): `tp_plan(sequence_parallel)` (DTensor
plans for tensor parallelism) and `pipeline_stage(stage, n_stages)` with `logits_loss(logits, targets)`
(pipeline parallelism). Both untie the head from the token embedding (the head gets a copy): a tied
weight cannot be sharded two ways nor live on two stages. `tie_weights: 0` builds that untied model in
one process, the reference TP and PP runs are compared against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbench.models.common import Built, sdpa_attend, token_batches

# GPT-2 shapes (Radford et al. 2019); vocab padded to 50304 (a multiple of 64) as nanoGPT does.
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(n_layer=2, n_head=2, n_embd=64, seq_len=64, vocab_size=512),
    "124m": dict(n_layer=12, n_head=12, n_embd=768, seq_len=1024, vocab_size=50304),
    "350m": dict(n_layer=24, n_head=16, n_embd=1024, seq_len=1024, vocab_size=50304),
    "774m": dict(n_layer=36, n_head=20, n_embd=1280, seq_len=1024, vocab_size=50304),
    "1.5b": dict(n_layer=48, n_head=25, n_embd=1600, seq_len=1024, vocab_size=50304),
}
ARGS = ("n_layer", "n_head", "n_embd", "seq_len", "vocab_size", "tie_weights")


@dataclass
class GPTConfig:
    n_layer: int
    n_head: int
    n_embd: int
    seq_len: int
    vocab_size: int
    tie_weights: int = 1  # 0: lm_head starts as a copy of wte and trains apart from it


class CausalSelfAttention(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.n_head, self.head_dim = c.n_head, c.n_embd // c.n_head  # n_head: the model's, all ranks together
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd, bias=False)  # fused: one matmul (split only for TP)
        self.proj = nn.Linear(c.n_embd, c.n_embd, bias=False)
        self.attend = sdpa_attend
        self.is_causal = True

    def forward(self, x):
        B, T, C = x.shape
        if self.qkv is not None:
            q, k, v = self.qkv(x).split(C, dim=2)
        else:
            q, k, v = self.q(x), self.k(x), self.v(x)
        # -1 heads: under TP each rank holds n_head / tp_size of them
        q, k, v = (t.view(B, T, -1, self.head_dim).transpose(1, 2) for t in (q, k, v))
        y = self.attend(q, k, v, self.is_causal)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, -1))

    def split_qkv(self):
        """Separate q, k, v projections with the fused one's weights: column-sharding the fused weight
        would give each rank a slice of q and k and v mixed, not whole heads of each."""
        if self.qkv is None:
            return
        w = self.qkv.weight.detach()
        for name, part in zip("qkv", w.split(w.shape[1], dim=0)):
            lin = nn.Linear(w.shape[1], w.shape[1], bias=False, device=w.device, dtype=w.dtype)
            lin.weight = nn.Parameter(part.clone())
            setattr(self, name, lin)
        del self.qkv
        self.qkv = None


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
        if not c.tie_weights:
            self.untie()

    def untie(self):
        """The head gets its own copy of the token embedding (same values; trained apart from then on)."""
        if self.lm_head.weight is self.wte.weight:
            self.lm_head.weight = nn.Parameter(self.wte.weight.detach().clone())

    def tp_plan(self, sequence_parallel: bool) -> tuple[dict, dict]:
        """(plan for the root, plan for each of `blocks`) for parallelize_module over a TP mesh, as
        Megatron-LM splits a transformer: q, k, v and fc column-sharded (whole heads per rank), both
        projections row-sharded, the token embedding and the head sharded over the vocabulary.
        sequence_parallel: the norms and the residual stream sharded over the sequence (dim 1)."""
        from torch.distributed.tensor import Replicate, Shard
        from torch.distributed.tensor.parallel import (
            ColwiseParallel,
            PrepareModuleInput,
            RowwiseParallel,
            SequenceParallel,
        )

        from benchbench.models.parallel import Replicated

        self.untie()
        for m in self.modules():  # through checkpointing's wrappers too
            if isinstance(m, CausalSelfAttention):
                m.split_qkv()
        sp = sequence_parallel
        seq = Shard(1) if sp else Replicate()

        def norm():
            return SequenceParallel() if sp else Replicated()

        root = {"wte": RowwiseParallel(input_layouts=Replicate(), output_layouts=Replicate()),
                "wpe": Replicated(), "ln_f": norm(),
                "lm_head": ColwiseParallel(input_layouts=seq, output_layouts=Replicate())}
        block = {"ln1": norm(), "ln2": norm(), "attn.q": ColwiseParallel(), "attn.k": ColwiseParallel(),
                 "attn.v": ColwiseParallel(), "attn.proj": RowwiseParallel(output_layouts=seq),
                 "mlp.fc": ColwiseParallel(), "mlp.proj": RowwiseParallel(output_layouts=seq)}
        if sp:  # the embeddings' sum enters the blocks sharded over the sequence; attention and MLP see it whole
            root["blocks.0"] = PrepareModuleInput(input_layouts=(Replicate(),), desired_input_layouts=(Shard(1),),
                                                  use_local_output=True)
            for name in ("attn", "mlp"):
                block[name] = PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),),
                                                 use_local_output=True)
        return root, block

    def tp_problem(self, tp_size: int) -> str | None:
        """Why this model cannot be split over tp_size ranks: whole heads and equal vocabulary shares per rank."""
        c = self.config
        if c.n_head % tp_size:
            return f"n_head={c.n_head} is not divisible by tp_size={tp_size} (each rank holds whole heads)"
        if c.vocab_size % tp_size:
            return f"vocab_size={c.vocab_size} is not divisible by tp_size={tp_size} (embedding and head are vocabulary-sharded)"
        return None

    def pipeline_stage(self, stage: int, n_stages: int) -> nn.Module:
        """Stage `stage` of `n_stages`: a contiguous share of the blocks (the first stages one more when
        they do not divide evenly), the embeddings on stage 0, the final norm and head on the last."""
        self.untie()
        per, extra = divmod(len(self.blocks), n_stages)
        start = stage * per + min(stage, extra)
        return GPTStage(self, range(start, start + per + (stage < extra)), stage == 0, stage == n_stages - 1)

    @staticmethod
    def logits_loss(logits, targets):
        """The loss forward(idx, targets) returns, from the last stage's logits."""
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

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


class GPTStage(nn.Module):
    """One pipeline stage of a GPT: its own modules are the model's (same weights, same techniques)."""

    def __init__(self, model: GPT, blocks: range, first: bool, last: bool):
        super().__init__()
        if first:
            self.wte, self.wpe = model.wte, model.wpe
        self.blocks = nn.ModuleList(model.blocks[i] for i in blocks)
        if last:
            self.ln_f, self.lm_head = model.ln_f, model.lm_head
        self.first, self.last = first, last

    def forward(self, x):
        if self.first:
            x = self.wte(x) + self.wpe(torch.arange(x.shape[1], device=x.device))
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x)) if self.last else x


def flops_per_sample(c: GPTConfig, n_params: int, seq_len: int) -> float:
    """Training FLOPs (forward + backward) per sequence: (6·N + 12·L·d·T) · T.

    N counts every parameter but the position embedding (the tied token embedding is the
    lm_head matmul). 6N per token is the dense matmuls' 2 FLOPs per multiply-add, times 3 for
    forward + backward; 12·L·d·T per token is QKᵀ and AV over the full T×T square. This is
    PaLM's appendix B formula as nanoGPT's estimate_mfu and torchtitan use it; it is the same
    for every technique (recomputation and causal-mask savings are not counted), so MFU compares.
    """
    n = n_params - c.seq_len * c.n_embd - (0 if c.tie_weights else c.vocab_size * c.n_embd)  # lookups are no matmul
    return (6 * n + 12 * c.n_layer * c.n_embd * seq_len) * seq_len


def memory_shape(size: str, args: dict[str, int], seq_len: int | None) -> dict:
    """The decoder's shape the memory model counts activations of (plan/memory_model.py): n_layer, n_head,
    n_embd, seq_len, vocab_size."""
    shape = {**SIZES[size], **args}
    shape["seq_len"] = seq_len or shape["seq_len"]
    return shape


def check(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> list[tuple[str, str]]:
    """(setting, problem) for shapes this model cannot take: a sequence longer than its context, an image size."""
    shape = {**SIZES.get(size, SIZES["tiny"]), **args}
    out = []
    if shape.get("tie_weights", 1) not in (0, 1):
        out.append(("model_args", f"tie_weights: {shape['tie_weights']}; allowed: 1 (the head shares the token "
                                  "embedding, as GPT-2) or 0 (the head starts as a copy and trains apart)"))
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

    return Built(
        model=model,
        make_batch=token_batches(c.vocab_size, T),
        flops_per_sample=flops_per_sample(c, n_params, T),
        tokens_per_sample=T,
        n_params=n_params,
    )
