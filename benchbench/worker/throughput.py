"""Throughput, MFU and energy per step from step times: the one place they are computed, for a worker's
own result and for the merge of several ranks' results (sweep/ranks.py)."""

from __future__ import annotations


def rates(step_times: list[float], samples_per_step: int, tokens_per_step: int | None, model_flops_per_step: float,
          world_size: int, peak_tflops: float | None, hardware_flops_per_step: float | None = None,
          energy_j: float | None = None, peak_fp8_tflops: float | None = None) -> dict:
    """samples/tokens per second (from the mean step time), model TFLOP/s and MFU per GPU, hardware
    TFLOP/s and HFU, and with an energy reading joules per step and samples/tokens per joule."""
    mean = sum(step_times) / len(step_times)
    d = {"samples_per_s": samples_per_step / mean, "model_tflops_per_s": model_flops_per_step / mean / 1e12}
    if tokens_per_step:
        d["tokens_per_s"] = tokens_per_step / mean
    if peak_tflops:  # MFU per GPU: the global batch's model FLOPs over world_size devices' peaks
        d["mfu"] = d["model_tflops_per_s"] / world_size / peak_tflops
    if peak_fp8_tflops:  # fp8 rows: the same work against the fp8 tensor cores' peak
        d["mfu_fp8"] = d["model_tflops_per_s"] / world_size / peak_fp8_tflops
    if hardware_flops_per_step:
        d["hardware_tflops_per_s"] = hardware_flops_per_step / mean / 1e12
        d["hfu"] = d["hardware_tflops_per_s"] / world_size / peak_tflops if peak_tflops else None
    if energy_j:
        d["energy_j_per_step"] = energy_j / len(step_times)
        d["samples_per_j"] = samples_per_step * len(step_times) / energy_j
        if tokens_per_step:
            d["tokens_per_j"] = tokens_per_step * len(step_times) / energy_j
    return d
