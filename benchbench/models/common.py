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


def sdpa_attend(q, k, v, is_causal: bool):
    """Default attention: PyTorch's scaled_dot_product_attention, backend chosen by PyTorch."""
    return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
