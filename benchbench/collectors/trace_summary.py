"""Where device time goes, from a torch.profiler Chrome trace (pure functions, no torch).

GPU traces: kernels, memcpys and memsets on the device timeline; busy = the union of their
intervals over the span from the first to the last, idle = the rest. CPU-only traces: the
self time of every operator (its time minus its children's on the same thread), since CPU
operators nest. Work launched inside torch.optim's "Optimizer.step#..." annotation is
`optimizer` (a kernel is matched to its launch through the trace's correlation ids); any other
name falls in the first category whose pattern it matches.
"""

from __future__ import annotations

import json
from collections import defaultdict

# the trace's format and categories live in basics/trace.py; re-exported for the collector's readers
from benchbench.basics.trace import (  # noqa: F401
    CATEGORIES,
    CATEGORY_NAMES,
    DEVICE_CATS,
    TOP,
    category,
    communication,
    load,
    self_times,
    union_us,
)


def _optimizer_ranges(events: list[dict]) -> dict:
    ranges = defaultdict(list)
    for e in events:
        if e.get("cat") == "user_annotation" and e["name"].startswith(("Optimizer.step", "Optimizer.zero_grad")):
            ranges[e.get("tid")].append((e["ts"], e["ts"] + e["dur"]))
    return ranges


def _inside(ranges: dict, tid, ts) -> bool:
    return any(s <= ts <= e for s, e in ranges.get(tid, ()))


def summarize(trace: dict) -> dict:
    """profile_* fields: device, busy/idle fractions, share per category, top kernels (JSON); with collectives,
    the part of their time no compute overlaps and the part it does (profile_communication_exposed_us,
    _overlapped_us: basics/trace.communication)."""
    events = [e for e in trace.get("traceEvents", []) if e.get("ph") == "X" and "dur" in e]
    device = [e for e in events if e.get("cat") in DEVICE_CATS]
    opt = _optimizer_ranges(events)
    if device:
        launches = {e["args"]["correlation"]: (e.get("tid"), e["ts"]) for e in events
                    if e.get("cat") == "cuda_runtime" and "correlation" in e.get("args", {})}

        def cat_of(e):
            launch = launches.get(e.get("args", {}).get("correlation"))
            if launch and _inside(opt, *launch):
                return "optimizer"
            return category(e["name"], e.get("cat", ""))

        items = [(e["name"], float(e["dur"]), cat_of(e)) for e in device]
        span = max(e["ts"] + e["dur"] for e in device) - min(e["ts"] for e in device)
        busy = union_us([(e["ts"], e["ts"] + e["dur"]) for e in device])
        out = {"profile_device": "cuda", "profile_busy_frac": busy / span if span else None,
               "profile_idle_frac": 1 - busy / span if span else None}
    else:
        cpu_ops = [e for e in events if e.get("cat") == "cpu_op"]
        items = [(n, t, "optimizer" if _inside(opt, tid, ts) else category(n)) for n, t, tid, ts in self_times(cpu_ops)]
        out = {"profile_device": "cpu", "profile_busy_frac": None, "profile_idle_frac": None}
    comm = communication(trace)
    if comm:  # collective time no compute overlaps (what the step waits for), and the rest; every rank's
        out["profile_communication_exposed_us"] = comm["exposed_us"]
        out["profile_communication_overlapped_us"] = comm["overlapped_us"]
    total = sum(t for _, t, _ in items) or 1.0
    shares = defaultdict(float)
    per_name = defaultdict(float)
    for name, t, cat in items:
        shares[cat] += t
        per_name[name] += t
    for c in CATEGORY_NAMES:
        out[f"profile_share_{c}"] = shares[c] / total
    top = sorted(per_name.items(), key=lambda kv: -kv[1])[:TOP]
    out["profile_top_kernels"] = json.dumps(
        [{"name": n[:160], "time_us": round(t, 1), "share": round(t / total, 4)} for n, t in top])
    out["profile_device_time_us"] = total
    return out
