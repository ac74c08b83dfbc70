"""What differed between the environments of two runs in ways that change the numbers: the torch
threads of the workers, the machine's load while they ran, the host, the torch version. compare and
gate print these beside their verdicts: a change is only the code's when none of them differ."""

from __future__ import annotations

import math

import pandas as pd

# Load differences below this (other work's share of the usable cores) are what an idle machine shows
LOAD_TOLERANCE = 0.25
KINDS = ("threads", "load", "host", "cpu", "torch")


def _median(rows: pd.DataFrame, col: str) -> float:
    if rows is None or col not in rows:
        return math.nan
    ok = rows[rows["status"] == "ok"] if "status" in rows else rows
    v = pd.to_numeric(ok[col], errors="coerce").dropna()
    return float(v.median()) if len(v) else math.nan


def threads(rows: pd.DataFrame, env: dict) -> str:
    """The workers' torch threads: the rows' torch_threads, else OMP_NUM_THREADS at the run's start, else "default"."""
    t = _median(rows, "torch_threads")
    if t == t:
        return f"{t:g}"
    omp = (env.get("noise_start") or {}).get("omp_num_threads")
    return str(omp) if omp else "default"


def busy(rows: pd.DataFrame) -> float:
    """Other work's share of the usable cores while the workers ran: (1-minute load at each worker's start
    less the worker itself) / usable cores, the median over ok rows; NaN when not recorded."""
    load, cores = _median(rows, "load_avg_1m_start"), _median(rows, "usable_cores")
    if load != load:
        return math.nan
    return max(0.0, load - 1.0) / max(cores if cores == cores else 1.0, 1.0)


def differences(rows_a: pd.DataFrame, env_a: dict, rows_b: pd.DataFrame, env_b: dict, names=("A", "B"),
                kinds=KINDS) -> list[str]:
    """One line per difference that changes numbers: 'torch threads: 1 (A) vs 2 (B)'."""
    a, b = names
    out = []
    if "threads" in kinds:
        ta, tb = threads(rows_a, env_a), threads(rows_b, env_b)
        if ta != tb:
            out.append(f"torch threads: {ta} ({a}) vs {tb} ({b})")
    if "load" in kinds:
        la, lb = busy(rows_a), busy(rows_b)
        if la == la and lb == lb and abs(la - lb) > LOAD_TOLERANCE:
            out.append(f"machine load: other work on {la:.0%} ({a}) vs {lb:.0%} ({b}) of the usable cores")
    for kind, key, what in (("host", "hostname", "host"), ("cpu", "cpu_model", "CPU")):
        va, vb = env_a.get(key), env_b.get(key)
        if kind in kinds and va and vb and va != vb:
            out.append(f"{what}: {va} ({a}) vs {vb} ({b})")
    if "torch" in kinds:
        va, vb = env_a.get("torch_version"), env_b.get("torch_version")
        if va and vb and va != vb:
            out.append(f"torch version: {va} ({a}) vs {vb} ({b})")
    return out
