"""What every reference model hands the worker, and the default attention function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Built:
    model: nn.Module  # forward(inputs, targets) -> scalar loss; exposes .blocks
    make_batch: Callable[[int, torch.Generator, torch.device], tuple[torch.Tensor, torch.Tensor]]
    flops_per_sample: float  # analytic training FLOPs (forward + backward) per sample
    tokens_per_sample: int | None  # None for models without tokens
    n_params: int


def token_batches(vocab_size: int, seq_len: int):
    """make_batch for a next-token model: seq_len + 1 random tokens per sample, drawn on the CPU generator (the
    same data on every device), split into inputs and the targets one position on."""

    def make_batch(batch_size: int, gen: torch.Generator, device: torch.device):
        tokens = torch.randint(0, vocab_size, (batch_size, seq_len + 1), generator=gen)
        tokens = tokens.to(device, non_blocking=True)
        return tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()

    return make_batch


def sdpa_attend(q, k, v, is_causal: bool):
    """Default attention: PyTorch's scaled_dot_product_attention, backend chosen by PyTorch."""
    return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
