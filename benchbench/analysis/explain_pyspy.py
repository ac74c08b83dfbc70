"""Where the host's Python time went, from the py-spy samples of the timed window (collectors/pyspy.py).

py-spy stores speedscope JSON: the frames (name, file, line) once, and per thread a sampled profile whose
samples are stacks of frame indices (outermost first) weighted in seconds. A function's time is its self
time: the samples whose innermost Python frame is it (py-spy sees Python frames, so the C++ a function
calls, torch's operators included, counts for it). Per step: over the timed window's steps, which the
sampling spans.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

TOP = 5  # functions listed
_UNITS = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}


def _where(path) -> str:
    parts = Path(str(path or "?")).parts
    return "/".join(parts[-2:]) if parts else "?"


def functions(speedscope: dict) -> dict[str, float]:
    """Seconds of self time per function ("name (folder/file.py)"), over every sampled thread."""
    frames = speedscope.get("shared", {}).get("frames", [])
    out: dict[str, float] = defaultdict(float)
    for prof in speedscope.get("profiles", []):
        scale = _UNITS.get(prof.get("unit", "seconds"))
        if prof.get("type") != "sampled" or scale is None:
            continue
        for stack, w in zip(prof.get("samples", []), prof.get("weights", [])):
            if stack and 0 <= stack[-1] < len(frames):
                f = frames[stack[-1]]
                out[f"{f.get('name', '?')} ({_where(f.get('file'))})"] += float(w) * scale
    return dict(out)


def repeat_functions(row, run_dir) -> dict[str, float] | None:
    """One repeat's self time per function in seconds per step; None without a readable py-spy record."""
    rel, steps = row.get("pyspy_speedscope"), row.get("step_times_s")
    n = len(steps) if steps is not None and not isinstance(steps, (str, float)) else 0
    if not run_dir or not isinstance(rel, str) or not n:
        return None
    try:
        with open(Path(run_dir) / rel) as f:
            got = functions(json.load(f))
    except (OSError, ValueError):
        return None
    return {k: v / n for k, v in got.items()} or None


def movers(fa: list[dict], fb: list[dict], delta_s: float, n: int = TOP) -> dict:
    """The functions whose time per step changed most from A to B (a side's mean over its repeats; a
    function not sampled in a repeat counts 0 there), each with its share of the step time's change."""
    keys = set().union(*fa, *fb)
    a = {k: float(np.mean([f.get(k, 0.0) for f in fa])) for k in keys}
    b = {k: float(np.mean([f.get(k, 0.0) for f in fb])) for k in keys}
    recs = [{"function": k, "a_s": a[k], "b_s": b[k], "delta_s": b[k] - a[k],
             "share": (b[k] - a[k]) / delta_s if delta_s else None} for k in keys]
    recs.sort(key=lambda r: (-abs(r["delta_s"]), r["function"]))
    return {"functions": recs[:n], "sampled_a_s": sum(a.values()), "sampled_b_s": sum(b.values()),
            "repeats": (len(fa), len(fb))}
