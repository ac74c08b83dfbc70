"""Max-batch search: the largest micro-batch of a config that trains without running out of memory.

Each probe is the config at one batch size, run like any config (its own worker process, its own
warmup and measured steps, one repeat), so a probe that runs out of memory leaves nothing behind
for the next. The search brackets the answer, then bisects to the exact batch:

- from the memory model's guess (memory_model.py: the batch whose predicted peak fills the device),
  stepping by GUESS_STEP (the model's error is small, so the bracket is narrow);
- without a guess, from the config's own batch size, doubling.

Every probe is a row of the run (status ok or oom, `maxbatch_probe` its number), so the search is
read back from the stored results like any run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

GUESS_STEP = 1.25   # bracket factor around the memory model's guess
DOUBLE = 2.0        # without a guess
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
    factor = GUESS_STEP if guessed else DOUBLE
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
            b = min(cap, max(lo + 1, math.ceil(lo * factor)))
        elif lo == 0:
            if hi == 1:
                break
            b = max(1, min(hi - 1, math.floor(hi / factor)))
        elif hi - lo <= 1:
            break
        else:
            b = (lo + hi) // 2
    s.batch = lo
    return s


def guess(cfg, device_bytes: float | None) -> int | None:
    """The batch the memory model says fills `device_bytes` (None without a model or a device size).

    The prediction is linear in the batch: state that does not grow with it plus activations that
    do; two predictions give both parts."""
    if not device_bytes:
        return None
    try:
        from benchbench import memory_model

        p1 = _predicted(memory_model, cfg.model_copy(update={"batch_size": 1}))
        p2 = _predicted(memory_model, cfg.model_copy(update={"batch_size": 2}))
    except Exception:  # a model the estimator cannot size: search without a guess
        return None
    if p1 is None or p2 is None or p2 <= p1:
        return None
    per_sample, fixed = p2 - p1, p1 - (p2 - p1)
    return max(1, int((device_bytes - fixed) // per_sample))


def _predicted(memory_model, cfg) -> float | None:
    out = memory_model.predict(cfg)
    value = out.get("predicted_peak_bytes") if isinstance(out, dict) else getattr(out, "predicted_peak_bytes", out)
    return float(value) if value is not None else None
