"""What one profiled repeat says, per step: device time by category and by kernel, GPU idle, and
collective time exposed or hidden behind compute.

From the row's profile_* columns, and from its stored trace (RUN/artifacts/.../trace.json.gz) when the
run directory still holds it: the trace lists every kernel, the row only the top ten.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from benchbench.analysis import kernels
from benchbench.basics import trace as trace_format

CATEGORIES = trace_format.CATEGORY_NAMES
# Host-side annotations of an engine's hooks (FSDP2 labels its pre/post forward/backward hooks "FSDP::...")
HOOK_PREFIXES = ("FSDP::",)


def has_profile(row) -> bool:
    v = row.get("profile_device_time_us")
    return v is not None and v == v and bool(row.get("profile_steps"))


def _trace_kernels(trace: dict) -> tuple[list[dict], dict]:
    """Every device kernel (name, time_us, count) and the collectives' exposed/total time (us)."""
    events = [e for e in trace.get("traceEvents", []) if e.get("ph") == "X" and "dur" in e]
    device = [(e["name"], float(e["dur"])) for e in events if e.get("cat") in trace_format.DEVICE_CATS]
    if not device:  # a CPU trace: its operators' self time (they nest), as the row's summary counts them
        device = [(n, t) for n, t, _, _ in trace_format.self_times([e for e in events if e.get("cat") == "cpu_op"])]
    per = defaultdict(lambda: [0.0, 0])
    for name, dur in device:
        per[name][0] += dur
        per[name][1] += 1
    ks = [{"name": n, "time_us": t, "count": c} for n, (t, c) in per.items()]
    hooks = [(e["ts"], e["ts"] + e["dur"]) for e in trace.get("traceEvents", []) if e.get("ph") == "X"
             and e.get("cat") == "user_annotation" and str(e.get("name", "")).startswith(HOOK_PREFIXES)]
    # CPU time of the training loop's thread (the one whose annotations mark the profiler's steps): the time
    # the host spends in operators, against the step it must keep up with
    main = {e.get("tid") for e in trace.get("traceEvents", []) if str(e.get("name", "")).startswith("ProfilerStep#")}
    cpu = [(e["ts"], e["ts"] + e["dur"]) for e in trace.get("traceEvents", []) if e.get("ph") == "X"
           and e.get("cat") in ("cpu_op", "cuda_runtime") and e.get("tid") in main]
    comm = trace_format.communication(trace) or {"comm_us": 0.0, "exposed_us": 0.0}
    return ks, {"comm_us": comm["comm_us"], "comm_exposed_us": comm["exposed_us"], "hook_us": trace_format.union_us(hooks),
                "host_cpu_us": trace_format.union_us(cpu) if main else None}


def _load_trace(row, run_dir) -> dict | None:
    rel = row.get("profile_trace")
    if not run_dir or not isinstance(rel, str):
        return None
    path = Path(run_dir) / rel
    if not path.is_file():
        return None
    try:
        return trace_format.load(path)
    except (OSError, ValueError, EOFError):
        return None  # an unreadable trace: the row's top kernels still explain


def repeat_profile(row, run_dir=None, trace: dict | None = None) -> dict | None:
    """One repeat's profile in seconds per step (None without one):
    step_s, device_s, cats {category: s}, idle_s, busy_frac, kernels {normalized: s}, labels,
    kernel_floor_s (a kernel below it may be missing from a top-N list), comm_s, comm_exposed_s, hook_s (host
    time inside an engine's hooks; trace only), host_cpu_s (the loop thread's time in operators and CUDA
    calls; trace only), counts {normalized: launches per step}, comm_ranks [(exposed_s, overlapped_s) per rank]
    (None without several ranks' collectives)."""
    if not has_profile(row):
        return None
    steps = float(row["profile_steps"])
    dev_s = float(row["profile_device_time_us"]) / steps / 1e6
    step_s = float(row["step_time_s_median"])
    busy, idle = row.get("profile_busy_frac"), row.get("profile_idle_frac")
    p = {"step_s": step_s, "device_s": dev_s,
         "cats": {c: float(row.get(f"profile_share_{c}") or 0.0) * dev_s for c in CATEGORIES},
         "busy_frac": busy if busy == busy else None,
         # GPU idle in the timed step: the profiled window's idle share of it, but never more than the step
         # minus the device time (the profiler slows the host, so a host-bound config idles more under it)
         "idle_s": max(0.0, min(idle * step_s, step_s - dev_s)) if idle is not None and idle == idle else None,
         "comm_s": None, "comm_exposed_s": None, "hook_s": None, "host_cpu_s": None}
    trace = trace if trace is not None else _load_trace(row, run_dir)
    if trace is not None:
        ks, comm = _trace_kernels(trace)
        p["kernel_floor_s"], p["kernels_from"] = 0.0, "trace"
        p["hook_s"] = comm["hook_us"] / steps / 1e6
        p["host_cpu_s"] = None if comm["host_cpu_us"] is None else comm["host_cpu_us"] / steps / 1e6
        if comm["comm_us"]:
            p["comm_s"], p["comm_exposed_s"] = comm["comm_us"] / steps / 1e6, comm["comm_exposed_us"] / steps / 1e6
    else:
        ks = json.loads(row.get("profile_top_kernels") or "[]")
        full = len(ks) < trace_format.TOP
        p["kernel_floor_s"] = 0.0 if full or not ks else min(k["time_us"] for k in ks) / steps / 1e6
        p["kernels_from"] = "row"
        exposed = row.get("profile_communication_exposed_us")
        if exposed is not None and exposed == exposed:
            p["comm_s"], p["comm_exposed_s"] = p["cats"]["communication"], float(exposed) / steps / 1e6
    p["comm_ranks"] = _per_rank(row, steps)
    tot = kernels.totals(ks)
    p["kernels"] = {k: v["time_us"] / steps / 1e6 for k, v in tot.items()}
    p["counts"] = {k: v["count"] / steps for k, v in tot.items()}
    p["labels"] = {k: kernels.label(sorted(v["names"])[0]) for k, v in tot.items()}
    p["categories_of"] = {k: trace_format.category(sorted(v["names"])[0]) for k, v in tot.items()}
    return p


def _per_rank(row, steps: float) -> list[tuple[float, float]] | None:
    """Every rank's collective time per step, exposed and overlapped by compute (each rank's own profile)."""
    ex, ov = row.get("profile_communication_exposed_us_per_rank"), row.get("profile_communication_overlapped_us_per_rank")
    if ex is None or ov is None or isinstance(ex, (str, float)) or isinstance(ov, (str, float)):
        return None
    try:
        return [(float(x) / steps / 1e6, float(o) / steps / 1e6) for x, o in zip(ex, ov)] or None
    except (TypeError, ValueError):
        return None
