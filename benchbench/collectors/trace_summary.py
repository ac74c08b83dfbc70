"""Where device time goes, from a torch.profiler Chrome trace (pure functions, no torch).

GPU traces: kernels, memcpys and memsets on the device timeline; busy = the union of their
intervals over the span from the first to the last, idle = the rest. CPU-only traces: the
self time of every operator (its time minus its children's on the same thread), since CPU
operators nest. Work launched inside torch.optim's "Optimizer.step#..." annotation is
`optimizer` (a kernel is matched to its launch through the trace's correlation ids); any other
name falls in the first category whose pattern it matches.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from pathlib import Path

DEVICE_CATS = ("kernel", "gpu_memcpy", "gpu_memset")
# Checked in order: a fused "optimizer" kernel that mentions "mm" must not count as a matmul.
CATEGORIES: list[tuple[str, re.Pattern]] = [
    ("communication", re.compile(r"nccl|all_?reduce|all_?gather|reduce_?scatter|c10d|gloo|broadcast", re.I)),
    # copies, including dtype casts (autocast's conversions are copy kernels)
    ("memcpy", re.compile(r"memcpy|memset|copy_kernel|aten::copy_|aten::_to_copy|aten::to\b|aten::clone|aten::contiguous", re.I)),
    ("attention", re.compile(r"flash|fmha|attention|sdpa|scaled_dot_product|flex", re.I)),
    ("optimizer", re.compile(r"adam|sgd|multi_tensor|foreach|optimizer|lerp", re.I)),
    ("matmul", re.compile(r"gemm|matmul|cutlass|xmma|cublas|nvjet|aten::(mm|addmm|bmm|linear|baddbmm)\b|conv|wgmma|s\d+gemm", re.I)),
    ("norm_elementwise", re.compile(r"norm|elementwise|vectorized|reduce|softmax|gelu|relu|silu|add|mul|div|triton|"
                                    r"embedding|cross_entropy|nll|exp|where|fill|masked|cat|index|sum|mean|dropout|"
                                    r"tanh|sqrt|pow|neg|sub|clamp|zero", re.I)),
]
CATEGORY_NAMES = [c for c, _ in CATEGORIES] + ["other"]
TOP = 10


def category(name: str, cat: str = "") -> str:
    if cat in ("gpu_memcpy", "gpu_memset"):
        return "memcpy"
    for label, pattern in CATEGORIES:
        if pattern.search(name):
            return label
    return "other"


def _optimizer_ranges(events: list[dict]) -> dict:
    ranges = defaultdict(list)
    for e in events:
        if e.get("cat") == "user_annotation" and e["name"].startswith(("Optimizer.step", "Optimizer.zero_grad")):
            ranges[e.get("tid")].append((e["ts"], e["ts"] + e["dur"]))
    return ranges


def _inside(ranges: dict, tid, ts) -> bool:
    return any(s <= ts <= e for s, e in ranges.get(tid, ()))


def load(path: str | Path) -> dict:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return json.load(f)


def _union_us(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for s, e in sorted(intervals):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


union_us = _union_us  # the busy time of a set of intervals, for analysis/explain_trace.py


def _self_times(events: list[dict]) -> list[tuple[str, float, object, float]]:
    """(name, self time us, thread, start) of nested CPU ops, per thread."""
    by_thread = defaultdict(list)
    for e in events:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    out = []
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[list] = []  # [end, name, self, tid, start]
        for e in evs:
            start, end = e["ts"], e["ts"] + e["dur"]
            while stack and stack[-1][0] <= start:
                done = stack.pop()
                out.append(tuple(done[1:]))
            if stack:
                stack[-1][2] -= min(end, stack[-1][0]) - start
            stack.append([end, e["name"], e["dur"], e.get("tid"), start])
        out.extend(tuple(x[1:]) for x in stack)
    return out


def summarize(trace: dict) -> dict:
    """profile_* fields: device, busy/idle fractions, share per category, top kernels (JSON); on a GPU with
    collectives, the part of their time no other kernel overlaps (profile_communication_exposed_us)."""
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
        busy = _union_us([(e["ts"], e["ts"] + e["dur"]) for e in device])
        out = {"profile_device": "cuda", "profile_busy_frac": busy / span if span else None,
               "profile_idle_frac": 1 - busy / span if span else None}
        comm = [(e["ts"], e["ts"] + e["dur"]) for e, (_, _, c) in zip(device, items) if c == "communication"]
        if comm:  # collective time during which no other kernel runs: what the step waits for
            rest = [(e["ts"], e["ts"] + e["dur"]) for e, (_, _, c) in zip(device, items) if c != "communication"]
            out["profile_communication_exposed_us"] = busy - _union_us(rest)
    else:
        cpu_ops = [e for e in events if e.get("cat") == "cpu_op"]
        items = [(n, t, "optimizer" if _inside(opt, tid, ts) else category(n)) for n, t, tid, ts in _self_times(cpu_ops)]
        out = {"profile_device": "cpu", "profile_busy_frac": None, "profile_idle_frac": None}
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
