"""Device facts by GPU name: dense peak TFLOP/s per compute dtype (the denominator of MFU), peak DRAM
bandwidth (the roofline's memory roof), and `utilization()`, the one definition of MFU, HFU and mfu_fp8.

Dense figures (NVIDIA quotes "with sparsity" numbers at twice these). A peak is looked up by the
compute dtype of the run's matmuls: fp32 -> plain FP32 (no tensor cores), tf32 -> TF32 tensor cores,
fp16 / bf16 / fp8 -> those tensor cores. The precision module (techniques/precision.py, `mfu_dtype`)
maps a config's precision to that dtype (bf16-pure -> bf16; fp8 -> bf16, so fp8 rows get `mfu` against
the bf16 peak, comparable with bf16 rows, and `mfu_fp8` against the dense fp8 peak, what the fp8 matmuls
could do). A name matches a table row
case-insensitively: every substring of the row's first tuple, none of its second; specific rows first.

Sources (NVIDIA datasheets):
  H100 SXM / PCIe / NVL   "NVIDIA H100 Tensor Core GPU" datasheet (2023): SXM 989 bf16/fp16,
                          494.5 tf32, 67 fp32; PCIe 756 / 378 / 51; NVL 835 / 418 / 60
  H100 SXM / H200 fp8     same datasheets: FP8 Tensor Core 3,958 TFLOPS with sparsity -> 1979 dense
  H200                    "NVIDIA H200 Tensor Core GPU" datasheet (2024): SXM as H100 SXM
  B200 fp8                "NVIDIA DGX B200" datasheet (2024): 72 PFLOPS FP8 training over 8 GPUs with
                          sparsity -> 4500 dense per GPU (only fp8 here: the other B200 peaks are not yet checked)
  A100                    "NVIDIA A100 Tensor Core GPU" datasheet (2021): 312 bf16/fp16, 156 tf32, 19.5 fp32
  L40S                    "NVIDIA L40S GPU" datasheet (2023): 362 bf16/fp16, 183 tf32, 91.6 fp32
  L4                      "NVIDIA L4 Tensor Core GPU" datasheet (2023): 121 bf16/fp16, 60 tf32, 30.3 fp32
  A10                     "NVIDIA A10 Tensor Core GPU" datasheet (2021): 125 bf16/fp16, 62.5 tf32, 31.2 fp32
  V100 SXM2               "NVIDIA Tesla V100 GPU" datasheet (2018): 125 fp16 tensor, 15.7 fp32; no bf16/tf32
"""

from __future__ import annotations

# (all of these substrings, none of these, {compute dtype: dense TFLOP/s})
_H100_SXM = {"bf16": 989.0, "fp16": 989.0, "tf32": 494.5, "fp32": 67.0, "fp8": 1979.0}
TABLE: list[tuple[tuple[str, ...], tuple[str, ...], dict[str, float]]] = [
    (("H100", "PCIe"), (), {"bf16": 756.0, "fp16": 756.0, "tf32": 378.0, "fp32": 51.0}),
    (("H100", "NVL"), (), {"bf16": 835.0, "fp16": 835.0, "tf32": 418.0, "fp32": 60.0}),
    (("H100",), (), _H100_SXM),
    (("H200",), (), _H100_SXM),
    (("B200",), (), {"fp8": 4500.0}),
    (("A100",), (), {"bf16": 312.0, "fp16": 312.0, "tf32": 156.0, "fp32": 19.5}),
    (("L40S",), (), {"bf16": 362.0, "fp16": 362.0, "tf32": 183.0, "fp32": 91.6}),
    (("L4",), ("L40",), {"bf16": 121.0, "fp16": 121.0, "tf32": 60.0, "fp32": 30.3}),
    (("A10",), ("A100",), {"bf16": 125.0, "fp16": 125.0, "tf32": 62.5, "fp32": 31.2}),
    (("V100",), (), {"fp16": 125.0, "fp32": 15.7}),
]


def _lookup(device_name: str, table):
    """The value of the first row of `table` whose name test `device_name` passes, else None."""
    up = device_name.upper()
    for need, avoid, value in table:
        if all(s.upper() in up for s in need) and not any(s.upper() in up for s in avoid):
            return value
    return None


def peak_tflops(device_name: str, dtype: str) -> tuple[float | None, str | None]:
    """(dense peak TFLOP/s of `dtype` math on this GPU, None) or (None, why there is none). `dtype` is the
    compute dtype (fp32, tf32, fp16, bf16, fp8), not a precision (techniques/precision.py maps one to the other)."""
    peaks = _lookup(device_name, TABLE)
    if peaks is None:
        return None, f"no peak FLOP/s known for device {device_name!r} (set peak_tflops in the suite)"
    if dtype not in peaks:
        return None, f"{device_name} has no {dtype} peak in benchbench's table"
    return peaks[dtype], None


def utilization(achieved_tflops_per_s: float, peak_tflops: float | None) -> float | None:
    """Achieved over peak TFLOP/s of one GPU: MFU (model FLOPs), HFU (counted FLOPs) and mfu_fp8 (against
    the fp8 peak) are all this; None without a peak."""
    return achieved_tflops_per_s / peak_tflops if peak_tflops else None


def peak_fields(device_type: str, device_name: str, dtype: str, override: float | None = None,
                fp8: bool = False) -> dict:
    """The row's peaks: peak_tflops of the compute dtype `dtype` and, when there is none, mfu_reason; on a
    GPU also peak_gb_per_s; with fp8 matmuls also peak_fp8_tflops (peak_tflops set in the suite is the
    dtype's peak: it does not stand for the fp8 one)."""
    if override:
        peak, why = override, None
    elif device_type != "cuda":
        peak, why = None, f"no peak FLOP/s for device type {device_type}"
    else:
        peak, why = peak_tflops(device_name, dtype)
    out = {"peak_tflops": peak, "mfu_reason": why}
    if device_type == "cuda":  # the roofline's memory roof (analysis/bound.py)
        out["peak_gb_per_s"] = peak_gb_per_s(device_name)
    if fp8:
        out["peak_fp8_tflops"] = peak_tflops(device_name, "fp8")[0] if device_type == "cuda" else None
    return out


# Peak DRAM bandwidth, GB/s (10^9 bytes/s), per GPU: the roofline's memory roof (analysis/bound.py).
# Sources, the same datasheets: H100 SXM 3.35 TB/s, PCIe 2.0 TB/s, NVL 3.9 TB/s; H200 4.8 TB/s; B200
# 8 TB/s ("NVIDIA DGX B200": 64 TB/s over 8 GPUs); A100 80GB SXM 2,039 GB/s, 80GB PCIe 1,935 GB/s, 40GB
# 1,555 GB/s; L40S 864 GB/s; L4 300 GB/s; A10 600 GB/s; V100 900 GB/s.
BANDWIDTH: list[tuple[tuple[str, ...], tuple[str, ...], float]] = [
    (("H100", "PCIe"), (), 2000.0),
    (("H100", "NVL"), (), 3900.0),
    (("H100",), (), 3350.0),
    (("H200",), (), 4800.0),
    (("B200",), (), 8000.0),
    (("A100", "80GB", "PCIe"), (), 1935.0),
    (("A100", "80GB"), (), 2039.0),
    (("A100",), (), 1555.0),
    (("L40S",), (), 864.0),
    (("L4",), ("L40",), 300.0),
    (("A10",), ("A100",), 600.0),
    (("V100",), (), 900.0),
]


def peak_gb_per_s(device_name: str) -> float | None:
    """Peak DRAM bandwidth in GB/s of a GPU by name, None when benchbench does not know it."""
    return _lookup(device_name, BANDWIDTH)
