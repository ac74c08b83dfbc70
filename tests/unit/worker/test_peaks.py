import pytest

from benchbench.worker import peaks


@pytest.mark.parametrize(
    "name, precision, expected",
    [
        ("NVIDIA H100 80GB HBM3", "bf16", 989.0),
        ("NVIDIA H100 80GB HBM3", "fp16", 989.0),
        ("NVIDIA H100 80GB HBM3", "tf32", 494.5),
        ("NVIDIA H100 80GB HBM3", "fp32", 67.0),
        ("NVIDIA H100 PCIe", "bf16", 756.0),
        ("NVIDIA H100 NVL", "bf16-pure", 835.0),
        ("NVIDIA H200", "bf16", 989.0),
        ("NVIDIA A100-SXM4-80GB", "bf16", 312.0),
        ("NVIDIA A100-PCIE-40GB", "tf32", 156.0),
        ("NVIDIA L40S", "bf16", 362.0),
        ("NVIDIA L4", "bf16", 121.0),
        ("NVIDIA A10", "bf16", 125.0),
        ("Tesla V100-SXM2-16GB", "fp16", 125.0),
    ],
)
def test_peak_table(name, precision, expected):
    assert peaks.peak_tflops(name, precision) == (expected, None)


def test_missing_peaks_say_why():
    assert peaks.peak_tflops("Tesla V100-SXM2-16GB", "bf16") == (None, "Tesla V100-SXM2-16GB has no bf16 peak in benchbench's table")
    peak, why = peaks.peak_tflops("Some Future GPU", "bf16")
    assert peak is None and "set peak_tflops in the suite" in why


def test_mfu_arithmetic_by_hand():
    # 400 TFLOP/s of model work on an H100 SXM (989 TFLOP/s dense bf16) is 40.44% MFU.
    f = peaks.mfu_fields(400.0, "cuda", "NVIDIA H100 80GB HBM3", "bf16")
    assert f == {"peak_tflops": 989.0, "mfu": pytest.approx(0.40445, abs=1e-5), "mfu_reason": None, "peak_gb_per_s": 3350.0}
    assert peaks.mfu_fields(1.0, "cpu", "x86_64", "fp32") == {"peak_tflops": None, "mfu": None, "mfu_reason": "no peak FLOP/s for device type cpu"}
    assert peaks.mfu_fields(10.0, "cpu", "x86_64", "fp32", override=100.0)["mfu"] == pytest.approx(0.1)


def test_fp8_rows_get_mfu_against_both_peaks():
    # 500 TFLOP/s on an H200: 50.6% of the dense bf16 peak (989), 25.3% of the dense fp8 peak (1979)
    f = peaks.mfu_fields(500.0, "cuda", "NVIDIA H200", "fp8")
    assert f["peak_tflops"] == 989.0 and f["mfu"] == pytest.approx(500 / 989)
    assert f["peak_fp8_tflops"] == 1979.0 and f["mfu_fp8"] == pytest.approx(500 / 1979)
    assert peaks.peak_tflops("NVIDIA H100 80GB HBM3", "fp8", "fp8") == (1979.0, None)
    assert peaks.peak_tflops("NVIDIA B200", "fp8", "fp8") == (4500.0, None)
    assert peaks.peak_tflops("NVIDIA A100-SXM4-80GB", "fp8", "fp8")[1] == "NVIDIA A100-SXM4-80GB has no fp8 peak in benchbench's table"
    assert "mfu_fp8" not in peaks.mfu_fields(500.0, "cuda", "NVIDIA H200", "bf16")


@pytest.mark.parametrize("name, expected", [
    ("NVIDIA H100 80GB HBM3", 3350.0), ("NVIDIA H100 PCIe", 2000.0), ("NVIDIA H100 NVL", 3900.0),
    ("NVIDIA H200", 4800.0), ("NVIDIA A100-SXM4-80GB", 2039.0), ("NVIDIA A100-PCIE-40GB", 1555.0),
    ("NVIDIA A100 80GB PCIe", 1935.0), ("NVIDIA L40S", 864.0), ("NVIDIA L4", 300.0), ("NVIDIA A10", 600.0),
    ("Some Future GPU", None)])
def test_bandwidth_table(name, expected):
    assert peaks.peak_gb_per_s(name) == expected


def test_a_gpu_row_carries_its_memory_roof():
    assert peaks.mfu_fields(400.0, "cuda", "NVIDIA H200", "bf16")["peak_gb_per_s"] == 4800.0
    assert "peak_gb_per_s" not in peaks.mfu_fields(1.0, "cpu", "x86_64", "fp32")
