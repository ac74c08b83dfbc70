"""Max-batch search: the largest micro-batch of a config that trains without running out of memory.

Each probe is the config at one batch size, run like any config (its own worker process, its own
warmup and measured steps, one repeat), so a probe that runs out of memory leaves nothing behind
for the next. The search brackets the answer, then bisects to the exact batch:

- from the memory model's guess (memory_model.py: the largest batch whose predicted need fits the
  device), stepping out by 10%, then 20%, 40%, ... until the answer is bracketed (the model is
  usually within 10%, so the bracket is narrow and the bisection short);
- without a guess, from the config's own batch size, doubling.

Every probe is a row of the run (status ok or oom, `maxbatch_probe` its number), so the search is
read back from the stored results like any run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

GUESS_STEP = 0.10   # first step out from the memory model's guess (doubled at every step after)
DOUBLE = 1.0        # without a guess: x2 every step
DEFAULT_CAP = 1 << 16


@dataclass
class Search:
    batch: int                                  # the largest batch that ran (0: not even batch 1)
    probes: list[tuple[int, str]] = field(default_factory=list)   # (batch, status) in order
    start: int = 1
    guessed: bool = False                       # the start came from the memory model
    stopped: str = ""                           # why the search ended early (a status other than ok/oom)

    @property
    def n_probes(self) -> int:
        return len(self.probes)


def search(probe, start: int, *, guessed: bool = False, cap: int = DEFAULT_CAP) -> Search:
    """probe(batch) -> status ("ok", "oom", or another status that ends the search)."""
    start = max(1, min(int(start), cap))
    grow = GUESS_STEP if guessed else DOUBLE
    s = Search(batch=0, start=start, guessed=guessed)
    lo, hi = 0, None          # largest ok, smallest that ran out of memory
    b = start
    while True:
        status = probe(b)
        s.probes.append((b, status))
        if status == "ok":
            lo = b
        elif status == "oom":
            hi = b
        elif lo == 0 and hi is None:   # the config cannot run at all (skipped, error): nothing to search
            s.stopped = status
            break
        else:                          # an error at a larger batch: treat it as the limit, say so
            s.stopped = status
            hi = b
        if hi is None:
            if lo >= cap:
                break
            b = min(cap, max(lo + 1, math.ceil(lo * (1 + grow))))
            grow = grow * 2 if guessed else grow
        elif lo == 0:
            if hi == 1:
                break
            b = max(1, min(hi - 1, math.floor(hi / (1 + grow))))
            grow = grow * 2 if guessed else grow
        elif hi - lo <= 1:
            break
        else:
            b = (lo + hi) // 2
    s.batch = lo
    return s


def guess(cfg, device_bytes: float | None, cap: int = DEFAULT_CAP) -> int | None:
    """The largest batch whose predicted need (memory_model.device_bytes_needed) fits `device_bytes`:
    a bisection over the model itself, which costs nothing. None without a device size or without a
    prediction for the model."""
    if not device_bytes:
        return None
    try:
        from benchbench.plan import memory_model

        def fits(b: int) -> bool | None:
            peak = memory_model.predict(cfg.model_copy(update={"batch_size": b}))["predicted_peak_bytes"]
            return None if peak is None else memory_model.device_bytes_needed(peak) <= device_bytes

        first = fits(1)
    except Exception:  # a model the estimator cannot size: search without a guess
        return None
    if first is None:
        return None
    if not first:
        return 1
    lo, hi = 1, 2
    while hi <= cap and fits(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return min(lo, cap)
