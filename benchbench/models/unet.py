"""A DDPM noise-prediction UNet (Ho et al. 2020), random weights, synthetic images.

The architecture of DDPM's reference code (diffusion_tf/models/unet.py): a 3x3 input conv; per
resolution level `num_res_blocks` ResBlocks (GroupNorm, SiLU, 3x3 conv, + a projection of the
time embedding, GroupNorm, SiLU, dropout, 3x3 conv, 1x1 conv shortcut when the width changes),
self-attention after each ResBlock of the `attn_levels`, a stride-2 3x3 conv down; a middle
ResBlock-attention-ResBlock at the lowest resolution; the up path mirrors it with
num_res_blocks + 1 ResBlocks per level, each on the concatenation of the running features and
one skip, and nearest-neighbour upsampling + 3x3 conv; GroupNorm, SiLU, 3x3 output conv. The
timestep enters as a sinusoidal embedding of width `ch` through Linear-SiLU-Linear to 4·ch.
Attention layers are levels (0 = full resolution), not pixel sizes, so `image_size` changes the
activations only, never the weights.

Sizes: `cifar10` is DDPM's CIFAR-10 model exactly (35.7M parameters, the paper's figure);
`base` is DDPM's LSUN / CelebA-HQ 256 architecture (ch_mult 1,1,2,2,4,4, attention at the 16x16
level of a 256 image; 114M parameters, the paper's figure), run at 128x128 by default
(image_size: 256 is the paper's setting), with 64-channel attention heads (ADM's choice; DDPM
used one head, and one head of 512 channels is beyond FlashAttention's head-dim limit);
`tiny` runs in well under a second a step on a CPU. Weights have PyTorch's default init.

Training step (DDPM Algorithm 1): x0 ~ data, t ~ Uniform{0..999}, ε ~ N(0, I);
x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε with DDPM's linear β schedule (1e-4 to 0.02); loss = MSE(ε_θ(x_t, t), ε).
make_batch draws all three from its seeded generator: inputs (B, 2, 3, H, W) stack the images x0
(uniform in [-1, 1]) and the noise ε, targets are the timesteps t (B,). So forward is a
deterministic function of the batch (no RNG inside, dropout aside), a batch can be split into
micro-batches along dim 0, and techniques can be checked to leave the loss unchanged.

Conventions for techniques: `model.blocks` is an nn.ModuleList of the ResBlocks and attention
blocks, each called `block(h, temb)` (attention ignores temb); every attention module calls
`self.attend(q, k, v, is_causal)` with is_causal False. The blocks are not one sequential stack
(skips, down- and upsampling happen between them, through `model.plan`), so SUPPORTS says
sequential_blocks: False: per-block checkpointing (full, every_k, selective) applies, runs of
consecutive blocks (sqrt) do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbench.models.common import Built, sdpa_attend

SIZES: dict[str, dict] = {
    "tiny": dict(image_size=32, ch=32, ch_mult=(1, 2), num_res_blocks=1, attn_levels=(1,), head_channels=32, dropout=0.0),
    "cifar10": dict(image_size=32, ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2, attn_levels=(1,), head_channels=0, dropout=0.1),
    "base": dict(image_size=128, ch=128, ch_mult=(1, 1, 2, 2, 4, 4), num_res_blocks=2, attn_levels=(4,), head_channels=64, dropout=0.0),
}
ARGS = ("image_size", "ch", "num_res_blocks", "head_channels")
# The blocks are not one sequential stack: checkpointing=sqrt (runs of consecutive blocks) is skipped.
SUPPORTS = {"sequential_blocks": False}
CHANNELS = 3
TIMESTEPS = 1000


@dataclass
class UNetConfig:
    image_size: int
    ch: int
    ch_mult: tuple[int, ...]
    num_res_blocks: int
    attn_levels: tuple[int, ...]
    head_channels: int  # channels per attention head; 0 = one head (DDPM)
    dropout: float


def _norm(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(32, c), c)  # DDPM: 32 groups


def conv_flops(c_in: int, c_out: int, k: int, hw_out: int) -> int:
    """Forward FLOPs of a k×k convolution: 2 · k² · c_in · c_out per output pixel."""
    return 2 * k * k * c_in * c_out * hw_out


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, temb_ch: int, dropout: float):
        super().__init__()
        self.c_in, self.c_out, self.temb_ch = c_in, c_out, temb_ch
        self.norm1 = _norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temb_proj = nn.Linear(temb_ch, c_out)
        self.norm2 = _norm(c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.shortcut(x) + h

    def flops(self, hw: int) -> int:
        f = conv_flops(self.c_in, self.c_out, 3, hw) + conv_flops(self.c_out, self.c_out, 3, hw)
        f += 2 * self.temb_ch * self.c_out
        if self.c_in != self.c_out:
            f += conv_flops(self.c_in, self.c_out, 1, hw)
        return f


class AttnBlock(nn.Module):
    """Self-attention over the H·W positions; q, k, v and the output projection are per-pixel
    linear maps (DDPM's 1x1 "nin" layers), applied to the (B, H·W, C) sequence so that q, k, v
    reach attend() with a contiguous last dimension, as fused attention kernels need."""

    def __init__(self, c: int, head_channels: int):
        super().__init__()
        self.c = c
        self.n_head = c // head_channels if head_channels else 1
        if head_channels and c % head_channels:
            raise ValueError(f"unet: attention width {c} is not divisible by head_channels={head_channels}")
        self.norm = _norm(c)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)
        self.attend = sdpa_attend
        self.is_causal = False

    def forward(self, x, temb=None):
        B, C, H, W = x.shape
        seq = self.norm(x).flatten(2).transpose(1, 2)  # (B, H·W, C)
        q, k, v = self.qkv(seq).split(C, dim=2)
        q, k, v = (t.view(B, H * W, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = self.attend(q, k, v, self.is_causal)  # (B, heads, H·W, head_dim)
        y = self.proj(y.transpose(1, 2).reshape(B, H * W, C))
        return x + y.transpose(1, 2).reshape(B, C, H, W)

    def flops(self, hw: int) -> int:
        return 2 * hw * self.c * 3 * self.c + 2 * hw * self.c * self.c + 4 * hw * hw * self.c


class Downsample(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.c = c
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)

    def flops(self, hw: int) -> int:
        return conv_flops(self.c, self.c, 3, hw // 4)


class Upsample(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.c = c
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))

    def flops(self, hw: int) -> int:
        return conv_flops(self.c, self.c, 3, hw * 4)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """DDPM's sinusoidal embedding (Transformer positional encoding of the timestep)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * (-math.log(10000.0) / (half - 1)))
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


class UNet(nn.Module):
    """ε_θ(x_t, t). `plan` is the forward order: ("block", i) runs blocks[i](h, temb), ("down", i)
    and ("up", i) resample, ("push",) saves h as a skip, ("cat",) concatenates the last skip to h;
    each op also carries the side of its input feature map (for the FLOP count)."""

    def __init__(self, c: UNetConfig):
        super().__init__()
        self.config = c
        ch, temb_ch, levels = c.ch, 4 * c.ch, len(c.ch_mult)
        if c.image_size % 2 ** (levels - 1):
            raise ValueError(f"unet: image_size={c.image_size} must be divisible by {2 ** (levels - 1)} ({levels} levels)")
        self.temb_ch = temb_ch
        self.temb = nn.Sequential(nn.Linear(ch, temb_ch), nn.SiLU(), nn.Linear(temb_ch, temb_ch))
        self.conv_in = nn.Conv2d(CHANNELS, ch, 3, padding=1)
        blocks, downs, ups, plan = [], [], [], []
        res, cur, skips = c.image_size, ch, [ch]

        def add(block):
            plan.append(("block", len(blocks), res))
            blocks.append(block)

        for level, mult in enumerate(c.ch_mult):
            for _ in range(c.num_res_blocks):
                add(ResBlock(cur, ch * mult, temb_ch, c.dropout))
                cur = ch * mult
                if level in c.attn_levels:
                    add(AttnBlock(cur, c.head_channels))
                plan.append(("push", 0, res))
                skips.append(cur)
            if level != levels - 1:
                plan.append(("down", len(downs), res))
                downs.append(Downsample(cur))
                res //= 2
                plan.append(("push", 0, res))
                skips.append(cur)
        add(ResBlock(cur, cur, temb_ch, c.dropout))
        add(AttnBlock(cur, c.head_channels))
        add(ResBlock(cur, cur, temb_ch, c.dropout))
        for level in reversed(range(levels)):
            for _ in range(c.num_res_blocks + 1):
                plan.append(("cat", 0, res))
                add(ResBlock(cur + skips.pop(), ch * c.ch_mult[level], temb_ch, c.dropout))
                cur = ch * c.ch_mult[level]
                if level in c.attn_levels:
                    add(AttnBlock(cur, c.head_channels))
            if level != 0:
                plan.append(("up", len(ups), res))
                ups.append(Upsample(cur))
                res *= 2
        assert not skips
        self.blocks = nn.ModuleList(blocks)
        self.downs = nn.ModuleList(downs)
        self.ups = nn.ModuleList(ups)
        self.plan = tuple((op, i) for op, i, _ in plan)
        self.plan_res = tuple(r for _, _, r in plan)
        self.norm_out = _norm(cur)
        self.conv_out = nn.Conv2d(cur, CHANNELS, 3, padding=1)
        self.out_ch = cur
        # DDPM's linear β schedule; ᾱ_t = Π_{s≤t} (1 - β_s).
        betas = torch.linspace(1e-4, 0.02, TIMESTEPS, dtype=torch.float64)
        self.register_buffer("alphas_cumprod", torch.cumprod(1.0 - betas, 0).float(), persistent=False)

    def eps(self, x, t):
        temb = self.temb(timestep_embedding(t, self.config.ch).to(x.dtype))
        h = self.conv_in(x)
        skips = [h]
        for op, i in self.plan:
            if op == "block":
                h = self.blocks[i](h, temb)
            elif op == "push":
                skips.append(h)
            elif op == "cat":
                h = torch.cat([h, skips.pop()], dim=1)
            elif op == "down":
                h = self.downs[i](h)
            else:
                h = self.ups[i](h)
        return self.conv_out(F.silu(self.norm_out(h)))

    def forward(self, inputs, timesteps):
        images, noise = inputs.unbind(1)  # x0 and ε, each (B, 3, H, W)
        a = self.alphas_cumprod[timesteps].float().view(-1, 1, 1, 1)
        x_t = a.sqrt() * images + (1.0 - a).sqrt() * noise
        pred = self.eps(x_t.to(self.conv_in.weight.dtype), timesteps)
        return F.mse_loss(pred.float(), noise)

    def forward_flops(self) -> int:
        """Forward FLOPs per sample, summed layer by layer from the shapes (see flops_per_sample)."""
        c, hw = self.config, self.config.image_size**2
        f = 2 * c.ch * self.temb_ch + 2 * self.temb_ch * self.temb_ch  # time-embedding MLP
        f += conv_flops(CHANNELS, c.ch, 3, hw) + conv_flops(self.out_ch, CHANNELS, 3, hw)  # conv_in, conv_out
        for (op, i), res in zip(self.plan, self.plan_res):
            if op in ("block", "down", "up"):
                f += {"block": self.blocks, "down": self.downs, "up": self.ups}[op][i].flops(res * res)
        return f


def flops_per_sample(model: UNet) -> float:
    """Training FLOPs (forward + backward) per image: 3 · Σ_layers forward FLOPs.

    Walks the network in forward order (model.plan) with each layer's input resolution and sums,
    2 FLOPs per multiply-add:
      k×k conv        2 · k² · c_in · c_out · H_out · W_out   (3x3 convs, 1x1 shortcuts, resampling)
      linear          2 · in · out                             (time MLP, each block's temb projection)
      attention       2 · HW · C · 3C (qkv) + 2 · HW · C² (out) + 4 · (HW)² · C (QKᵀ and A·V)
    Backward is counted as 2x forward (3x in all), as for gpt and vit; GroupNorm, SiLU, softmax,
    bias adds, resampling copies and the noising are left out. The same for every technique.
    FlopCounterMode counts 0.1% less (tiny), 0.02-0.03% less (cifar10, base): conv_in's input and
    the first time-MLP layer's input need no gradient, so their backward is 1x, not 2x
    (test_models.py).
    """
    return 3 * model.forward_flops()


def check(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> list[tuple[str, str]]:
    """(setting, problem) for settings this model ignores: it takes images, so seq_len has no effect."""
    return [("seq_len", "unet takes images, not tokens: seq_len has no effect on it (sweep image_size instead)")] \
        if seq_len is not None else []


def build(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> Built:
    shape = {**SIZES[size], **args}
    if image_size:
        shape["image_size"] = image_size
    c = UNetConfig(**shape)
    model = UNet(c)
    n_params = sum(p.numel() for p in model.parameters())

    def make_batch(batch_size: int, gen: torch.Generator, device: torch.device):
        shape = (batch_size, CHANNELS, c.image_size, c.image_size)
        images = torch.rand(shape, generator=gen) * 2 - 1
        noise = torch.randn(shape, generator=gen)
        timesteps = torch.randint(0, TIMESTEPS, (batch_size,), generator=gen)
        inputs = torch.stack([images, noise], dim=1)  # (B, 2, 3, H, W)
        return inputs.to(device, non_blocking=True), timesteps.to(device, non_blocking=True)

    return Built(
        model=model,
        make_batch=make_batch,
        flops_per_sample=flops_per_sample(model),
        tokens_per_sample=None,
        n_params=n_params,
    )
