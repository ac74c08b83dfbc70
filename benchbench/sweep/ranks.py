"""One row from the results of a config's ranks (world_size > 1, one result file per rank).

A step ends when the slowest rank ends it, so the config's step times are the per-step maximum
over ranks; throughput follows from them. Memory: the maximum over ranks (what must fit on one
GPU), the mean, and every rank's value; NVML figures likewise per GPU (utilization and clocks of
the least busy GPU), power and energy also summed over the GPUs, throttle reasons of any GPU.
Pipeline stages: every rank's measured bubble and stage indices (pp_stage_ids_per_rank), the row's
bubble the median over ranks (the ranks of one pipeline wait by different amounts; the median is the
typical stage).
A rank that failed fails the config, with that rank named in the reason.
"""

from __future__ import annotations

import re
import statistics

from benchbench.basics import stats
from benchbench.spec import catalogue
from benchbench.worker import throughput

# How each column merges (max, min, sum, median; every rank's value kept or not) is its declaration's in the
# metric catalogue (spec/catalogue.py), a plug-in's included: what nothing declares stays rank 0's.
REDUCE = {"max": max, "min": min, "sum": sum, "mean": statistics.fmean, "median": statistics.median}
SEVERITY = ("error", "killed", "timeout", "oom", "skipped")
COLLATERAL = re.compile(r"Connection closed by peer|remote (worker|process)|DistBackendError|NCCL (error|communicator)|"
                        r"ProcessGroup|Socket Timeout|connection reset", re.I)


def merge(results: list[dict], world_size: int) -> dict:
    if len(results) != world_size or any(r is None for r in results):
        missing = [i for i in range(world_size) if i >= len(results) or results[i] is None]
        return {"status": "error", "reason": f"no result from rank(s) {missing} of {world_size}"}
    bad = [(i, r) for i, r in enumerate(results) if r.get("status") != "ok"]
    if bad:
        # The cause, not its echo: a rank that lost its peer reports a communication error.
        def rank_order(ir):
            i, r = ir
            echo = bool(COLLATERAL.search(str(r.get("reason", ""))))
            return (echo, SEVERITY.index(r["status"]) if r["status"] in SEVERITY else 0, i)

        i, r = min(bad, key=rank_order)
        more = f" ({len(bad) - 1} other rank(s) failed too)" if len(bad) > 1 else ""
        return {**r, "reason": f"rank {i}: {r.get('reason')}{more}", "failed_rank": i}
    out = dict(results[0])
    for m in catalogue.every():
        values = [r.get(m.name) for r in results]
        if (m.per_rank or m.merge in REDUCE) and all(_number(v) for v in values):
            if m.per_rank:
                out[f"{m.name}_per_rank"] = values
            if m.per_rank == "list+mean":
                out[f"{m.name}_rank_mean"] = statistics.fmean(values)
            if m.merge in REDUCE:
                out[m.name] = REDUCE[m.merge](values)
    if all("pp_stage_ids" in r for r in results):
        out["pp_stage_ids_per_rank"] = [r["pp_stage_ids"] for r in results]
        out.pop("pp_stage_ids", None)
    if isinstance(out.get("power_w_mean_per_rank"), list):
        out["power_w_mean_total"] = sum(out["power_w_mean_per_rank"])
    throttles = sorted({t for r in results for t in str(r.get("throttled") or "").split(",") if t})
    if any("throttled" in r for r in results):
        out["throttled"] = ",".join(throttles)
    steps = [max(column) for column in zip(*(r["step_times_s"] for r in results))]
    out["step_times_s"] = steps
    out.update(stats.summarize(steps, "step_time_s"))
    for m in catalogue.BUILTIN.values():  # rank 0's own rates: recomputed from the merged steps below
        if m.merge == "steps" and not m.name.startswith("step_time_s"):
            out.pop(m.name, None)
    out.update(throughput.rates(steps, out["samples_per_step"], out.get("tokens_per_step"), out["model_flops_per_step"],
                                world_size, out.get("peak_tflops"), out.get("hardware_flops_per_step"),
                                out.get("energy_j") if isinstance(out.get("energy_j_per_rank"), list) else None,
                                out.get("peak_fp8_tflops")))
    out["ranks"] = world_size
    return out


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
