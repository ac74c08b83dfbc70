"""Can this config run here? Every reason a config is skipped before its worker starts, in one place.

The parent (sweep) asks with what NVML knows of the device; the worker asks again with what torch
sees (worker/device.from_torch). Each plug-in says why it cannot run (engines, techniques); the
launch settings say why a multi-machine config cannot run on this node (sweep/cluster).
"""

from __future__ import annotations

from benchbench import engines, techniques
from benchbench.techniques import ema, optimizer


def skip_reason(cfg, dev, cluster=None) -> str | None:
    """Why `cfg` cannot run on `dev` (and this node of `cluster`), or None if it can."""
    if cfg.device == "cuda" and dev.count == 0:
        return "device=cuda but this machine has no NVIDIA GPU"
    if cluster is not None:
        reason = cluster.skip_reason(cfg)
        if reason:
            return reason
    for mod in (engines, *techniques.ORDER, techniques, optimizer, ema):  # techniques: the plug-ins a config names
        reason = mod.skip_reason(cfg, dev)
        if reason:
            return reason
    return None
