"""Device facts: the peak tables by GPU name and compute dtype, and utilization(), the one MFU."""

import pytest

from benchbench.basics import device


@pytest.mark.parametrize(
    "name, dtype, expected",
    [
        ("NVIDIA H100 80GB HBM3", "bf16", 989.0),
        ("NVIDIA H100 80GB HBM3", "fp16", 989.0),
        ("NVIDIA H100 80GB HBM3", "tf32", 494.5),
        ("NVIDIA H100 80GB HBM3", "fp32", 67.0),
        ("NVIDIA H100 PCIe", "bf16", 756.0),
        ("NVIDIA H100 NVL", "bf16", 835.0),
        ("NVIDIA H200", "bf16", 989.0),
        ("NVIDIA A100-SXM4-80GB", "bf16", 312.0),
        ("NVIDIA A100-PCIE-40GB", "tf32", 156.0),
        ("NVIDIA L40S", "bf16", 362.0),
        ("NVIDIA L4", "bf16", 121.0),
        ("NVIDIA A10", "bf16", 125.0),
        ("Tesla V100-SXM2-16GB", "fp16", 125.0),
        ("NVIDIA H100 80GB HBM3", "fp8", 1979.0),
        ("NVIDIA B200", "fp8", 4500.0),
    ],
)
def test_peak_table(name, dtype, expected):
    assert device.peak_tflops(name, dtype) == (expected, None)


def test_missing_peaks_say_why():
    assert device.peak_tflops("Tesla V100-SXM2-16GB", "bf16") == (None, "Tesla V100-SXM2-16GB has no bf16 peak in benchbench's table")
    assert device.peak_tflops("NVIDIA A100-SXM4-80GB", "fp8")[1] == "NVIDIA A100-SXM4-80GB has no fp8 peak in benchbench's table"
    peak, why = device.peak_tflops("Some Future GPU", "bf16")
    assert peak is None and "set peak_tflops in the suite" in why


def test_utilization_by_hand():
    # 400 TFLOP/s of model work on an H100 SXM (989 TFLOP/s dense bf16) is 40.44% MFU.
    assert device.utilization(400.0, 989.0) == pytest.approx(0.40445, abs=1e-5)
    assert device.utilization(400.0, None) is None


def test_a_row_finds_the_peak_of_its_compute_dtype():
    f = device.peak_fields("cuda", "NVIDIA H100 80GB HBM3", "bf16")
    assert f == {"peak_tflops": 989.0, "mfu_reason": None, "peak_gb_per_s": 3350.0}
    assert device.peak_fields("cuda", "NVIDIA H100 NVL", "bf16")["peak_tflops"] == 835.0
    assert device.peak_fields("cpu", "x86_64", "fp32") == {"peak_tflops": None, "mfu_reason": "no peak FLOP/s for device type cpu"}
    assert device.peak_fields("cpu", "x86_64", "fp32", override=100.0)["peak_tflops"] == 100.0


def test_fp8_rows_carry_both_peaks():
    # fp8 rows: `mfu` against the dense bf16 peak (989, comparable with bf16 rows), mfu_fp8 against the fp8 one (1979)
    f = device.peak_fields("cuda", "NVIDIA H200", "bf16", fp8=True)
    assert f["peak_tflops"] == 989.0 and f["peak_fp8_tflops"] == 1979.0
    assert device.peak_fields("cuda", "NVIDIA H200", "bf16", override=500.0, fp8=True)["peak_fp8_tflops"] == 1979.0
    assert "peak_fp8_tflops" not in device.peak_fields("cuda", "NVIDIA H200", "bf16")


@pytest.mark.parametrize("name, expected", [
    ("NVIDIA H100 80GB HBM3", 3350.0), ("NVIDIA H100 PCIe", 2000.0), ("NVIDIA H100 NVL", 3900.0),
    ("NVIDIA H200", 4800.0), ("NVIDIA A100-SXM4-80GB", 2039.0), ("NVIDIA A100-PCIE-40GB", 1555.0),
    ("NVIDIA A100 80GB PCIe", 1935.0), ("NVIDIA L40S", 864.0), ("NVIDIA L4", 300.0), ("NVIDIA A10", 600.0),
    ("Some Future GPU", None)])
def test_bandwidth_table(name, expected):
    assert device.peak_gb_per_s(name) == expected


def test_a_gpu_row_carries_its_memory_roof():
    assert device.peak_fields("cuda", "NVIDIA H200", "bf16")["peak_gb_per_s"] == 4800.0
    assert "peak_gb_per_s" not in device.peak_fields("cpu", "x86_64", "fp32")
