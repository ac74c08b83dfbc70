"""A Llama-3-style decoder: RMSNorm, rotary embeddings, SwiGLU, grouped-query attention, untied head.

Random weights, synthetic tokens, the same conventions as the GPT (`model.blocks`, each attention
module's `self.attend(q, k, v, is_causal)` on (B, heads, T, head_dim) tensors), plus two hooks the
parallel engines use:
  * `tp_plan(sequence_parallel)`: DTensor tensor-parallel plans (root, per block), as torchtitan's
    Llama 3 plan; attention infers its local head count from the tensors, so sharded q/k/v work;
  * `pipeline_stage(stage, n_stages)`: a module with one contiguous share of the blocks, the
    embedding on the first stage and norm + head on the last, and `logits_loss(logits, targets)`.

Sizes follow Meta's Llama 3.2 1B / 3B and Llama 3.1 8B shapes (rope theta 500000, vocab 128256 =
64 x 2004). Unlike the released 1B and 3B, the head is untied here (as in 8B and torchtitan), so
those sizes count about 0.26B / 0.39B more parameters than Meta's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbench.models.common import Built, sdpa_attend, token_batches

SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(n_layer=2, dim=64, n_head=4, n_kv_head=2, ffn_dim=192, seq_len=128, vocab_size=512),
    "1b": dict(n_layer=16, dim=2048, n_head=32, n_kv_head=8, ffn_dim=8192, seq_len=8192, vocab_size=128256),
    "3b": dict(n_layer=28, dim=3072, n_head=24, n_kv_head=8, ffn_dim=8192, seq_len=8192, vocab_size=128256),
    "8b": dict(n_layer=32, dim=4096, n_head=32, n_kv_head=8, ffn_dim=14336, seq_len=8192, vocab_size=128256),
}
ARGS = ("n_layer", "dim", "n_head", "n_kv_head", "ffn_dim", "seq_len", "vocab_size")
ROPE_THETA = 500000.0
NORM_EPS = 1e-5


@dataclass
class LlamaConfig:
    n_layer: int
    dim: int
    n_head: int
    n_kv_head: int
    ffn_dim: int
    seq_len: int
    vocab_size: int


def rotary_table(T: int, head_dim: int, device: torch.device) -> torch.Tensor:
    """cos + i·sin of every (position, frequency) angle as a (T, head_dim/2) complex64 table, made once per
    shape and device (positions · inv_freq in fp32, as the rotation always used); its cos and sin as fp32
    tables beside it, for the compiled path."""
    key = (T, head_dim, str(device))
    if key not in _TABLES:
        with torch.inference_mode(False), torch.no_grad():  # a plain tensor even if first asked for in inference
            inv_freq = 1.0 / ROPE_THETA ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim)
            angles = torch.outer(torch.arange(T, device=device, dtype=torch.float32), inv_freq)
            _TABLES[key] = torch.polar(torch.ones_like(angles), angles)
            _COS_SIN[_cos_sin_key(T, head_dim, device)] = (angles.cos(), angles.sin())
    return _TABLES[key]


_TABLES: dict[tuple, torch.Tensor] = {}
_COS_SIN: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def _cos_sin_key(T: int, head_dim: int, device: torch.device) -> tuple:
    return T, head_dim, device.type, device.index  # what the compiler can read off a traced tensor


def rotate(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of (B, T, heads, head_dim), halves rotated (the GPT-NeoX layout): the
    pair (x1, x2) of the two halves is the complex number x1 + i·x2, times cos + i·sin. Eager, that is
    three kernels (torchtitan's complex product over a table made once): one copy to fp32 pairs, one
    complex multiply, one copy back to the halves layout in x's dtype."""
    B, T, H, D = x.shape
    if torch.compiler.is_compiling():  # the compiler fuses the real arithmetic into one kernel
        # over the tables made at build (graph inputs): computed in the kernel, the pow, cos and sin of
        # every element cost an H100 ~5% of a compiled Llama 1B step
        tables = _COS_SIN.get(_cos_sin_key(T, D, x.device))
        if tables is None:
            inv_freq = 1.0 / ROPE_THETA ** (torch.arange(0, D, 2, dtype=torch.float32, device=x.device) / D)
            angles = torch.outer(torch.arange(T, device=x.device, dtype=torch.float32), inv_freq)
            tables = angles.cos(), angles.sin()
        cos, sin = tables[0][None, :, None, :], tables[1][None, :, None, :]
        x1, x2 = x.float().chunk(2, dim=-1)
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).type_as(x)
    pairs = _dense(x.view(B, T, H, 2, D // 2).transpose(-1, -2), torch.float32)
    turned = torch.view_as_real(torch.view_as_complex(pairs) * rotary_table(T, D, x.device)[None, :, None, :])
    return _dense(turned.transpose(-1, -2), x.dtype).view(B, T, H, D)


def _dense(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """t in dtype, row-major, in one copy (`to` alone returns a same-dtype tensor as it is)."""
    return t.to(dtype, memory_format=torch.contiguous_format).contiguous()


class Attention(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.head_dim = c.dim // c.n_head
        self.wq = nn.Linear(c.dim, c.n_head * self.head_dim, bias=False)
        self.wk = nn.Linear(c.dim, c.n_kv_head * self.head_dim, bias=False)
        self.wv = nn.Linear(c.dim, c.n_kv_head * self.head_dim, bias=False)
        self.wo = nn.Linear(c.n_head * self.head_dim, c.dim, bias=False)
        self.attend = sdpa_attend
        self.is_causal = True

    def forward(self, x):
        B, T, _ = x.shape
        # -1 heads: under tensor parallelism each rank holds a share of the heads
        q = rotate(self.wq(x).view(B, T, -1, self.head_dim))
        k = rotate(self.wk(x).view(B, T, -1, self.head_dim))
        v = self.wv(x).view(B, T, -1, self.head_dim)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        groups = q.shape[1] // k.shape[1]
        if groups > 1 and q.is_cuda and self.attend is sdpa_attend:
            # SDPA's kernels read each K/V head for its group in place (torchtitan's way): no repeated copies
            # (~1.5% of an eager Llama 1B step on an H100); the CPU keeps the repeat, whose saved tensors the
            # memory model counts
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.is_causal, enable_gqa=True)
        elif groups > 1:  # grouped-query attention: each K/V head serves `groups` query heads
            k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
            y = self.attend(q, k, v, self.is_causal)
        else:
            y = self.attend(q, k, v, self.is_causal)
        return self.wo(y.transpose(1, 2).reshape(B, T, -1))


class FeedForward(nn.Module):
    """SwiGLU (Shazeer 2020): w2(silu(w1 x) * w3 x)."""

    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.w1 = nn.Linear(c.dim, c.ffn_dim, bias=False)
        self.w2 = nn.Linear(c.ffn_dim, c.dim, bias=False)
        self.w3 = nn.Linear(c.dim, c.ffn_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.attention_norm = nn.RMSNorm(c.dim, eps=NORM_EPS)
        self.attention = Attention(c)
        self.ffn_norm = nn.RMSNorm(c.dim, eps=NORM_EPS)
        self.feed_forward = FeedForward(c)

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.feed_forward(self.ffn_norm(x))


class Stage(nn.Module):
    """One pipeline stage: token ids (first stage) or hidden states in; hidden states or logits out."""

    def __init__(self, model: Llama, lo: int, hi: int, first: bool, last: bool):
        super().__init__()
        self.tok_embeddings = model.tok_embeddings if first else None
        self.blocks = nn.ModuleList(list(model.blocks)[lo:hi])
        self.norm = model.norm if last else None
        self.output = model.output if last else None

    def forward(self, x):
        if self.tok_embeddings is not None:
            x = self.tok_embeddings(x)
        for block in self.blocks:
            x = block(x)
        return self.output(self.norm(x)) if self.output is not None else x


class Llama(nn.Module):
    def __init__(self, c: LlamaConfig):
        super().__init__()
        self.config = c
        self.tok_embeddings = nn.Embedding(c.vocab_size, c.dim)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.norm = nn.RMSNorm(c.dim, eps=NORM_EPS)
        self.output = nn.Linear(c.dim, c.vocab_size, bias=False)
        # torchtitan's init: normal(0.02), output projections scaled by depth
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / (2 * c.n_layer) ** 0.5 if name.endswith(("wo.weight", "w2.weight")) else 0.02
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx, targets):
        x = self.tok_embeddings(idx)
        for block in self.blocks:
            x = block(x)
        return self.logits_loss(self.output(self.norm(x)), targets)

    @staticmethod
    def logits_loss(logits, targets):
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))

    def pipeline_stage(self, stage: int, n_stages: int) -> Stage:
        """Stage `stage` of `n_stages`: blocks split as evenly as they go, the earlier stages taking one
        more when they do not divide (the first stage also embeds, the last also projects to the vocab)."""
        if not 0 <= stage < n_stages <= len(self.blocks):
            raise ValueError(f"llama: stage {stage} of {n_stages} with {len(self.blocks)} blocks")
        share, extra = divmod(len(self.blocks), n_stages)
        lo = stage * share + min(stage, extra)
        hi = lo + share + (stage < extra)
        return Stage(self, lo, hi, stage == 0, stage == n_stages - 1)

    def tp_problem(self, tp_size: int) -> str | None:
        """Why this model cannot be split over tp_size ranks: whole query and K/V heads, equal vocabulary
        and feed-forward shares per rank (engines/tensor.py asks before launch)."""
        c = self.config
        for name, n in (("n_head", c.n_head), ("n_kv_head", c.n_kv_head), ("ffn_dim", c.ffn_dim),
                        ("vocab_size", c.vocab_size)):
            if n % tp_size:
                return f"{name}={n} is not divisible by tp_size={tp_size}"
        return None

    def tp_plan(self, sequence_parallel: bool) -> tuple[dict, dict]:
        """(root plan, per-block plan) for parallelize_module, torchtitan's Llama 3 plan: q/k/v and
        w1/w3 column-wise, wo and w2 row-wise; with sequence parallelism the norms and the residual
        stream are sharded over the sequence between them."""
        from torch.distributed.tensor import Replicate, Shard
        from torch.distributed.tensor.parallel import (
            ColwiseParallel,
            PrepareModuleInput,
            RowwiseParallel,
            SequenceParallel,
        )

        sp = sequence_parallel
        root = {
            "tok_embeddings": RowwiseParallel(input_layouts=Replicate(), output_layouts=Shard(1) if sp else Replicate()),
            "output": ColwiseParallel(input_layouts=Shard(1) if sp else Replicate(), output_layouts=Replicate(),
                                      use_local_output=True),
        }
        if sp:
            root["norm"] = SequenceParallel()
        block = {
            "attention.wq": ColwiseParallel(),
            "attention.wk": ColwiseParallel(),
            "attention.wv": ColwiseParallel(),
            "attention.wo": RowwiseParallel(output_layouts=Shard(1) if sp else Replicate()),
            "feed_forward.w1": ColwiseParallel(),
            "feed_forward.w3": ColwiseParallel(),
            "feed_forward.w2": RowwiseParallel(output_layouts=Shard(1) if sp else Replicate()),
        }
        if sp:
            block.update({
                "attention_norm": SequenceParallel(),
                "ffn_norm": SequenceParallel(),
                "attention": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
                "feed_forward": PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)),
            })
        return root, block


def n_params_analytic(c: LlamaConfig) -> int:
    """Parameters from the shape: embedding and head V·d each, per layer the four attention
    projections (q and o d·d, k and v d·kv·head_dim), three d·f SwiGLU matrices and two norms."""
    kv = c.n_kv_head * (c.dim // c.n_head)
    layer = 2 * c.dim * c.dim + 2 * c.dim * kv + 3 * c.dim * c.ffn_dim + 2 * c.dim
    return 2 * c.vocab_size * c.dim + c.n_layer * layer + c.dim


def flops_per_sample(c: LlamaConfig, n_params: int, seq_len: int) -> float:
    """Training FLOPs per sequence: (6·N + 12·L·d·T) · T, N without the token embedding (a lookup,
    not a matmul; the untied head is a matmul and counts). The attention term is over all query
    heads (d = heads · head_dim): grouped K/V heads save memory, not these FLOPs. torchtitan's
    get_num_flop_per_token counts the same."""
    return (6 * (n_params - c.vocab_size * c.dim) + 12 * c.n_layer * c.dim * seq_len) * seq_len


def memory_shape(size: str, args: dict[str, int], seq_len: int | None) -> dict:
    """The decoder's shape the memory model counts activations of (plan/memory_model.py): its width as
    n_embd, and ffn_dim (the Llama layer's own count)."""
    shape = {**SIZES[size], **args}
    shape["n_embd"] = shape.pop("dim")
    shape["seq_len"] = seq_len or shape["seq_len"]
    return shape


def check(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> list[tuple[str, str]]:
    shape = {**SIZES.get(size, SIZES["tiny"]), **args}
    out = []
    if seq_len and seq_len > shape["seq_len"]:
        out.append(("seq_len", f"{seq_len} is longer than llama {size}'s context of {shape['seq_len']} tokens; use "
                               f"seq_len <= {shape['seq_len']} or widen the model (model: {{seq_len: {seq_len}}})"))
    if shape["dim"] % shape["n_head"] or (shape["dim"] // shape["n_head"]) % 2:
        out.append(("model_args", f"llama: dim={shape['dim']} must be n_head={shape['n_head']} times an even head size"))
    elif shape["n_head"] % shape["n_kv_head"]:
        out.append(("model_args", f"llama: n_head={shape['n_head']} must be a multiple of n_kv_head={shape['n_kv_head']}"))
    if image_size is not None:
        out.append(("image_size", "llama takes tokens, not images: image_size has no effect on it"))
    return out


def build(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> Built:
    shape = {**SIZES[size], **args}
    problems = check(size, args, seq_len, None)
    if problems:
        raise ValueError(f"llama: {problems[0][0]}={problems[0][1]}")
    T = seq_len or shape["seq_len"]
    c = LlamaConfig(**shape)
    model = Llama(c)
    n_params = sum(p.numel() for p in model.parameters())
    device = model.output.weight.device
    if device.type != "meta":  # where the model was built (the worker builds on its GPU): the compiled
        rotary_table(T, c.dim // c.n_head, device)  # rotation reads these tables instead of computing them

    return Built(model=model, make_batch=token_batches(c.vocab_size, T),
                 flops_per_sample=flops_per_sample(c, n_params, T), tokens_per_sample=T, n_params=n_params)
