"""A Vision Transformer (Dosovitskiy et al. 2021), random weights, synthetic images and labels.

Pre-norm encoder blocks, a learned [class] token and learned position embeddings, a linear head
on the final [class] token and a cross-entropy classification loss - the layout of timm's
`vit_*_patch16_224` (qkv bias, LayerNorm eps 1e-6, MLP width 4·d), so s16/b16/l16 have timm's
parameter counts (22.05M / 86.57M / 304.33M with 1000 classes).

The same two conventions as gpt.py let techniques act on it: `model.blocks` is the sequence of
residual blocks, and every attention module calls `self.attend(q, k, v, is_causal)` (non-causal).

Throughput is counted in images: tokens_per_sample is None, so no tokens/s column is reported
(a patch is not a text token, and tokens/s next to GPT's would compare unlike things).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbench.models.common import Built, sdpa_attend

# ViT-S/B/L at patch 16 (Dosovitskiy et al. 2021 Table 1; S from Touvron et al. 2021 / timm).
SIZES: dict[str, dict[str, int]] = {
    "tiny": dict(image_size=32, patch_size=4, n_layer=2, n_head=2, n_embd=64, n_classes=10),
    "s16": dict(image_size=224, patch_size=16, n_layer=12, n_head=6, n_embd=384, n_classes=1000),
    "b16": dict(image_size=224, patch_size=16, n_layer=12, n_head=12, n_embd=768, n_classes=1000),
    "l16": dict(image_size=224, patch_size=16, n_layer=24, n_head=16, n_embd=1024, n_classes=1000),
}
ARGS = ("image_size", "patch_size", "n_layer", "n_head", "n_embd", "n_classes")
CHANNELS = 3
MLP_RATIO = 4


@dataclass
class ViTConfig:
    image_size: int
    patch_size: int
    n_layer: int
    n_head: int
    n_embd: int
    n_classes: int

    @property
    def n_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2


class Attention(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.n_head = c.n_head
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.proj = nn.Linear(c.n_embd, c.n_embd)
        self.attend = sdpa_attend
        self.is_causal = False

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, N, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = self.attend(q, k, v, self.is_causal)
        return self.proj(y.transpose(1, 2).contiguous().view(B, N, C))


class MLP(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.fc = nn.Linear(c.n_embd, MLP_RATIO * c.n_embd)
        self.proj = nn.Linear(MLP_RATIO * c.n_embd, c.n_embd)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.n_embd, eps=1e-6)
        self.attn = Attention(c)
        self.ln2 = nn.LayerNorm(c.n_embd, eps=1e-6)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.config = c
        self.patch_embed = nn.Conv2d(CHANNELS, c.n_embd, kernel_size=c.patch_size, stride=c.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.n_embd))
        self.pos_embed = nn.Parameter(torch.zeros(1, c.n_patches + 1, c.n_embd))
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd, eps=1e-6)
        self.head = nn.Linear(c.n_embd, c.n_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)

    def forward(self, images, labels):
        x = self.patch_embed(images.to(self.patch_embed.weight.dtype))  # (B, d, H/p, W/p)
        x = x.flatten(2).transpose(1, 2)  # (B, N-1, d)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x[:, 0]))
        return F.cross_entropy(logits, labels)


def flops_per_sample(c: ViTConfig) -> float:
    """Training FLOPs (forward + backward) per image: 3 · (patch + L·(24·N·d² + 4·N²·d) + head).

    Forward, 2 FLOPs per multiply-add, N = patches + 1 ([class] token), d = width:
      patch embedding  2 · (N-1) · (p²·3) · d        (the stride-p convolution is a matmul)
      per block        24·N·d²   qkv 6·N·d², out projection 2·N·d², MLP 2·2·N·d·4d = 16·N·d²
                       4·N²·d    QKᵀ and A·V over the full N×N square
      head             2 · d · n_classes             (on the [class] token only)
    Backward is counted as 2x forward (3x in all), as in Kaplan et al. 2020 and PaLM's MFU;
    norms, GELU, softmax and bias adds are left out. The same for every technique (recomputation
    is not counted), so MFU compares. FlopCounterMode counts 0.08-0.4% less for l16-s16 and 0.9%
    less for tiny: the patch embedding has no input gradient, so its backward is 1x, not 2x
    (test_models.py).
    """
    d, n, p = c.n_embd, c.n_patches + 1, c.patch_size
    patch = 2 * (n - 1) * p * p * CHANNELS * d
    block = 24 * n * d * d + 4 * n * n * d
    head = 2 * d * c.n_classes
    return 3 * (patch + c.n_layer * block + head)


def check(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> list[tuple[str, str]]:
    """(setting, problem) for settings this model ignores: it takes images, so seq_len has no effect."""
    return [("seq_len", "vit takes images, not tokens: seq_len has no effect on it (sweep image_size instead)")] \
        if seq_len is not None else []


def build(size: str, args: dict[str, int], seq_len: int | None, image_size: int | None) -> Built:
    shape = {**SIZES[size], **args}
    if image_size:
        shape["image_size"] = image_size
    c = ViTConfig(**shape)
    if c.n_embd % c.n_head:
        raise ValueError(f"vit: n_embd={c.n_embd} is not divisible by n_head={c.n_head}")
    if c.image_size % c.patch_size:
        raise ValueError(f"vit: image_size={c.image_size} is not divisible by patch_size={c.patch_size}")
    model = ViT(c)
    n_params = sum(p.numel() for p in model.parameters())

    def make_batch(batch_size: int, gen: torch.Generator, device: torch.device):
        images = torch.randn(batch_size, CHANNELS, c.image_size, c.image_size, generator=gen)
        labels = torch.randint(0, c.n_classes, (batch_size,), generator=gen)
        return images.to(device, non_blocking=True), labels.to(device, non_blocking=True)

    return Built(
        model=model,
        make_batch=make_batch,
        flops_per_sample=flops_per_sample(c),
        tokens_per_sample=None,
        n_params=n_params,
    )
