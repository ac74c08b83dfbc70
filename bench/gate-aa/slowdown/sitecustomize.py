"""A deliberate, proportional slowdown for bench/gate-aa/gate_aa.py: with this directory on PYTHONPATH and
BENCH_SLOWDOWN=k (k > 1) in the environment, every torch.optim.AdamW.step busy-waits (k - 1) times
the CPU time the process spent since the previous step ended, so each training step costs about
k times as much, in wall time and in CPU time (extra work, not a sleep), while the suite, its
configs and their config ids stay exactly the same. Unset (or k <= 1): nothing happens,
torch is not even imported here."""

import os

_K = float(os.environ.get("BENCH_SLOWDOWN") or 1.0)

if _K > 1.0:
    import time

    import torch

    _orig = torch.optim.AdamW.step
    _last = [None]

    def _slow_step(self, *args, **kwargs):
        out = _orig(self, *args, **kwargs)
        now = time.process_time()
        if _last[0] is not None:
            until = now + (_K - 1.0) * (now - _last[0])
            while time.process_time() < until:  # burn CPU: a step that does more work
                pass
        _last[0] = time.process_time()
        return out

    torch.optim.AdamW.step = _slow_step
