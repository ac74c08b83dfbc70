"""Throughput, MFU and energy per step from step times: the one place they are computed, for a worker's
own result and for the merge of several ranks' results (sweep/ranks.py). MFU, HFU and mfu_fp8 are
basics.device.utilization of one GPU's share of the work."""

from __future__ import annotations

from benchbench.basics.device import utilization


def rates(step_times: list[float], samples_per_step: int, tokens_per_step: int | None, model_flops_per_step: float,
          world_size: int, peak_tflops: float | None, hardware_flops_per_step: float | None = None,
          energy_j: float | None = None, peak_fp8_tflops: float | None = None) -> dict:
    """samples/tokens per second (from the mean step time), model TFLOP/s and MFU per GPU (None without a
    peak), hardware TFLOP/s and HFU, and with an energy reading joules per step and samples/tokens per joule."""
    mean = sum(step_times) / len(step_times)
    d = {"samples_per_s": samples_per_step / mean, "model_tflops_per_s": model_flops_per_step / mean / 1e12}
    if tokens_per_step:
        d["tokens_per_s"] = tokens_per_step / mean
    per_gpu_tflops_per_s = d["model_tflops_per_s"] / world_size  # the global batch's work over world_size devices
    d["mfu"] = utilization(per_gpu_tflops_per_s, peak_tflops)
    if peak_fp8_tflops:  # fp8 rows: the same work against the fp8 tensor cores' peak
        d["mfu_fp8"] = utilization(per_gpu_tflops_per_s, peak_fp8_tflops)
    if hardware_flops_per_step:
        d["hardware_tflops_per_s"] = hardware_flops_per_step / mean / 1e12
        d["hfu"] = utilization(d["hardware_tflops_per_s"] / world_size, peak_tflops)
    if energy_j:
        d["energy_j_per_step"] = energy_j / len(step_times)
        d["samples_per_j"] = samples_per_step * len(step_times) / energy_j
        if tokens_per_step:
            d["tokens_per_j"] = tokens_per_step * len(step_times) / energy_j
    return d
