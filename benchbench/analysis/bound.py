"""What bounds a config: its point on the roofline and a bound class, from stored rows.

- FLOPs: the model FLOPs counted per step (`model_flops_per_step`; `hardware_flops_per_step`, which
  counts recomputation, where the flops collector ran), per GPU.
- Bytes: an analytic lower bound of DRAM traffic per step per GPU (the profiler records no byte counts):
  activations written in forward and read in backward (2 x activations_workspace_bytes), weights read in
  forward, backward and by the optimizer (3 x params_bytes), gradients written and read (2 x grads_bytes),
  optimizer state read and written (2 x optimizer_state_bytes). Real traffic is higher (re-reads,
  casts), so achieved GB/s is a lower bound too.
- Roofline: attainable TFLOP/s = min(peak TFLOP/s, intensity x peak bandwidth); `roofline_frac` is
  achieved / attainable.
- Bound class, first that applies: `communication` (collectives take COMM_SHARE of device time),
  `host/launch` (GPU busy below HOST_BOUND_BUSY of the profiled steps: the host sets the pace), then
  `compute` or `memory bandwidth` by the arithmetic intensity against the ridge point (peak FLOP/s over
  peak bandwidth); where FLOPs, bytes or a peak are unknown, by the profile (`compute` when matmul +
  attention take DENSE_SHARE of the device time), the reason in `bound_basis`. Without a profile the
  class is the roofline's alone, and `bound_basis` says so (it cannot see the host).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchbench.analysis.explain import HOST_BOUND_BUSY

COMM_SHARE = 0.3
DENSE_SHARE = 0.5  # without a ridge: compute when matmul + attention take this share of device time
BYTES_METHOD = ("analytic lower bound: 2 x activations + 3 x params + 2 x grads + 2 x optimizer state bytes per step")
BOUNDS = ("compute", "memory bandwidth", "host/launch", "communication")


def _med(rows: pd.DataFrame, col: str) -> float | None:
    if col not in rows:
        return None
    v = pd.to_numeric(rows[col], errors="coerce").dropna()
    return float(v.median()) if len(v) else None


def bytes_per_step(rows: pd.DataFrame) -> float | None:
    parts = [(2, "activations_workspace_bytes"), (3, "params_bytes"), (2, "grads_bytes"), (2, "optimizer_state_bytes")]
    vals = [(k, _med(rows, c)) for k, c in parts]
    if vals[0][1] is None or vals[1][1] is None:
        return None
    return float(sum(k * v for k, v in vals if v is not None))


def config_bound(rows: pd.DataFrame, bandwidth=None) -> dict:
    """The roofline point and bound class of one config from its rows (ok repeats only). The memory roof is
    the rows' `peak_gb_per_s`, else `bandwidth(device_name)` (basics/device.peak_gb_per_s: rows written
    before the column existed)."""
    ok = rows[rows["status"] == "ok"] if "status" in rows else rows
    out = {"bound": None, "bound_basis": None, "achieved_tflops_per_s": None, "achieved_gb_per_s": None,
           "intensity_flop_per_byte": None, "roofline_frac": None, "peak_tflops": None, "peak_gb_per_s": None}
    if ok.empty or "step_time_s_median" not in ok:
        return out
    ws = _med(ok, "world_size") or 1
    step = _med(ok, "step_time_s_median")
    flops = _med(ok, "hardware_flops_per_step") or _med(ok, "model_flops_per_step")
    nbytes = bytes_per_step(ok)
    peak = _med(ok, "peak_tflops")
    name = str(ok["device_name"].iloc[0]) if "device_name" in ok and ok["device_name"].notna().any() else ""
    bw = _med(ok, "peak_gb_per_s") or (bandwidth(name) if bandwidth and name else None)
    out.update(peak_tflops=peak, peak_gb_per_s=bw)
    if step and flops:
        # hardware FLOPs are counted on rank 0 (per GPU); model FLOPs per step are the global batch's
        per_gpu = flops if _med(ok, "hardware_flops_per_step") else flops / ws
        out["achieved_tflops_per_s"] = per_gpu / step / 1e12
        if nbytes:
            out["achieved_gb_per_s"] = nbytes / step / 1e9
            out["intensity_flop_per_byte"] = per_gpu / nbytes
            if peak and bw:
                attainable = min(peak, out["intensity_flop_per_byte"] * bw / 1e3)
                out["roofline_frac"] = out["achieved_tflops_per_s"] / attainable
    out["bound"], out["bound_basis"] = _classify(ok, out, peak, bw)
    return out


def _classify(ok: pd.DataFrame, point: dict, peak, bw) -> tuple[str | None, str | None]:
    busy = _med(ok, "profile_busy_frac")
    comm = _med(ok, "profile_share_communication")
    if busy is not None:
        if comm is not None and comm >= COMM_SHARE:
            return "communication", f"collectives {comm:.0%} of device time"
        if busy < HOST_BOUND_BUSY:
            return "host/launch", f"GPU busy {busy:.0%} of the profiled steps"
    ridge = _ridge(point, peak, bw)
    if ridge:
        kind, said = ridge
        return kind, said if busy is not None else f"roofline only (no profile): {said}"
    if busy is not None:  # no FLOP or byte count, or no peaks: the profile's shares decide
        dense = sum(_med(ok, f"profile_share_{c}") or 0.0 for c in ("matmul", "attention"))
        why = "no FLOPs, bytes or device peaks for the ridge"
        if dense >= DENSE_SHARE:
            return "compute", f"matmul + attention {dense:.0%} of device time ({why})"
        return "memory bandwidth", f"matmul + attention only {dense:.0%} of device time ({why})"
    return None, None


def _ridge(point: dict, peak, bw) -> tuple[str, str] | None:
    """compute or memory bandwidth by arithmetic intensity against the ridge point (peak FLOP/s over peak
    bytes/s; at the ridge or above: compute), None when the intensity or a peak is unknown."""
    ai = point.get("intensity_flop_per_byte")
    if not (ai and peak and bw):
        return None
    ridge = peak * 1e3 / bw
    kind = "compute" if ai >= ridge else "memory bandwidth"
    return kind, f"{ai:.0f} FLOP/byte against the ridge at {ridge:.0f}"


def per_config(df: pd.DataFrame, bandwidth=None) -> pd.DataFrame:
    """config_bound() for every config of df, indexed by config_id."""
    if df.empty:
        return pd.DataFrame()
    recs = {cid: config_bound(g, bandwidth) for cid, g in df.groupby("config_id", sort=False)}
    return pd.DataFrame.from_dict(recs, orient="index")


def with_bound(table: pd.DataFrame, df: pd.DataFrame, bandwidth=None) -> pd.DataFrame:
    """The summary table with a `bound` column (for `table`) when any config has a bound class."""
    if table.empty or df.empty:
        return table
    b = per_config(df, bandwidth)
    if b.empty or b["bound"].isna().all():
        return table
    out = table.copy()
    # a class from the roofline alone (no profile) says so: it cannot see the host
    short = [None if k is None or k != k else k + (" (roofline)" if str(w).startswith("roofline only") else "")
             for k, w in zip(b["bound"], b["bound_basis"])]
    out["bound"] = out["config_id"].map(pd.Series(short, index=b.index)).where(lambda s: s.notna(), np.nan)
    return out
