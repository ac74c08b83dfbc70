"""Units: bytes as people read them (binary prefixes, as nvidia-smi and the CUDA allocator count)."""

from __future__ import annotations

import math

GIB = 2**30  # bytes in a GiB: memory budgets, GPU memory and the memory model's figures are in GiB


def human_bytes(n) -> str:
    """512 B, 1.5 KiB, 5.0 GiB ... up to TiB; "-" for a missing value (None, NaN, pandas' NA)."""
    try:
        x = float(n)
    except (TypeError, ValueError):
        return "-"
    if math.isnan(x):
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(x) < 1024 or unit == "TiB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return str(x)  # not reached: TiB takes every larger value
