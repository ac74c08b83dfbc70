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
from benchbench.worker import throughput

PER_RANK = ("peak_allocated_bytes", "peak_reserved_bytes", "steady_allocated_bytes", "peak_rss_bytes", "params_bytes",
            "grads_bytes", "optimizer_state_bytes", "activations_workspace_bytes", "process_gpu_memory_peak_bytes",
            "zero_params_bytes", "zero_grads_bytes", "zero_optimizer_state_bytes", "zero_buffers_bytes",
            "zero_model_states_bytes", "zero_offloaded_bytes", "allocated_after_backward_bytes",
            "unattributed_after_backward_bytes", "fwd_bwd_transient_bytes", "optimizer_step_transient_bytes",
            "step_time_s_median",
            # the collectives' time no compute overlaps, and the rest, from each rank's own profile
            "profile_communication_exposed_us", "profile_communication_overlapped_us",
            # NVML, each rank sampling its own GPU: the row's value is the hottest GPU; _per_rank has each
            "gpu_util_pct_mean", "mem_util_pct_mean", "power_w_mean", "power_w_max", "sm_clock_mhz_mean",
            "sm_clock_mhz_min", "temperature_c_max", "device_memory_used_peak_bytes")
# max is the wrong summary for these: the slowest clock and lowest utilization are the interesting GPU
LOWEST = ("gpu_util_pct_mean", "mem_util_pct_mean", "sm_clock_mhz_mean", "sm_clock_mhz_min")
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
    for key in PER_RANK:
        values = [r.get(key) for r in results]
        if all(isinstance(v, (int, float)) for v in values):
            out[f"{key}_per_rank"] = values
            out[f"{key}_rank_mean"] = statistics.fmean(values)
            out[key] = min(values) if key in LOWEST else max(values)
    bubbles = [r.get("pp_bubble_measured") for r in results]
    if all(isinstance(b, (int, float)) for b in bubbles):
        out["pp_bubble_measured_per_rank"], out["pp_bubble_measured"] = bubbles, statistics.median(bubbles)
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
    energies = [r.get("energy_j") for r in results]
    if all(isinstance(e, (int, float)) for e in energies):
        out["energy_j_per_rank"], out["energy_j"] = energies, sum(energies)
    for stale in ("tokens_per_j", "samples_per_j", "energy_j_per_step", "mfu", "mfu_fp8", "hfu", "hardware_tflops_per_s"):
        out.pop(stale, None)  # rank 0's own figures; recomputed from the merged steps below
    out.update(throughput.rates(steps, out["samples_per_step"], out.get("tokens_per_step"), out["model_flops_per_step"],
                                world_size, out.get("peak_tflops"), out.get("hardware_flops_per_step"),
                                out.get("energy_j") if isinstance(out.get("energy_j_per_rank"), list) else None,
                                out.get("peak_fp8_tflops")))
    out["ranks"] = world_size
    return out
