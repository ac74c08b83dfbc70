"""Reading a stored torch.profiler Chrome trace (pure functions, no torch): the categories of its kernels and
operators, the busy time of a set of intervals, and how much of the collectives' time compute overlaps.

Every stage that reads a trace uses these: the profiler collector summarizes one into a row's profile_*
columns, `explain` reads the stored ones again.
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
TOP = 10  # kernels a row keeps (profile_top_kernels)


def category(name: str, cat: str = "") -> str:
    if cat in ("gpu_memcpy", "gpu_memset"):
        return "memcpy"
    for label, pattern in CATEGORIES:
        if pattern.search(name):
            return label
    return "other"


def load(path: str | Path) -> dict:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return json.load(f)


def union_us(intervals: list[tuple[float, float]]) -> float:
    """The busy time of a set of (start, end) intervals: their union's length."""
    total, end = 0.0, float("-inf")
    for s, e in sorted(intervals):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def self_times(events: list[dict]) -> list[tuple[str, float, object, float]]:
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


def _complete(trace: dict) -> list[dict]:
    return [e for e in trace.get("traceEvents", []) if e.get("ph") == "X" and "dur" in e]


def communication(trace: dict) -> dict | None:
    """The collectives' time in a trace (us): {"comm_us", "exposed_us", "overlapped_us"}, None without any.
    exposed: collective time during which no compute runs (the step waits for it); overlapped: the rest.
    GPU traces: collective kernels against every other kernel, memcpy and memset. CPU traces (gloo): the
    collective operators and annotations against the operators of every thread, less those nested inside
    a collective on its own thread (its own work)."""
    events = _complete(trace)
    device = [e for e in events if e.get("cat") in DEVICE_CATS]
    if device:
        comm = [e for e in device if category(e["name"], e.get("cat", "")) == "communication"]
        compute = [e for e in device if category(e["name"], e.get("cat", "")) != "communication"]
    else:
        ops = [e for e in events if e.get("cat") in ("cpu_op", "user_annotation")
               and not str(e.get("name", "")).startswith(("ProfilerStep#", "Optimizer.", "## "))]
        comm = [e for e in ops if category(e["name"]) == "communication"]
        spans = defaultdict(list)
        for e in comm:
            spans[(e.get("pid"), e.get("tid"))].append((e["ts"], e["ts"] + e["dur"]))
        compute = [e for e in ops if e.get("cat") == "cpu_op" and category(e["name"]) != "communication"
                   and not any(s <= e["ts"] and e["ts"] + e["dur"] <= t for s, t in spans[(e.get("pid"), e.get("tid"))])]
    if not comm:
        return None
    iv = [(e["ts"], e["ts"] + e["dur"]) for e in comm]
    rest = [(e["ts"], e["ts"] + e["dur"]) for e in compute]
    total = union_us(iv)
    exposed = union_us(iv + rest) - union_us(rest)
    return {"comm_us": total, "exposed_us": exposed, "overlapped_us": total - exposed}
