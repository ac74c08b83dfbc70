"""One function computes throughput, MFU and energy per step, for a worker's result and for the merge of
several ranks: hand-computed numbers, and a 2-rank merge agreeing with them."""

import pytest

from benchbench.sweep import ranks
from benchbench.worker import throughput


def test_rates_by_hand():
    d = throughput.rates([0.1, 0.3], samples_per_step=8, tokens_per_step=8192, model_flops_per_step=4e12,
                         world_size=2, peak_tflops=100.0, hardware_flops_per_step=5e12, energy_j=60.0)
    assert d["samples_per_s"] == pytest.approx(40.0) and d["tokens_per_s"] == pytest.approx(40960.0)
    assert d["model_tflops_per_s"] == pytest.approx(20.0) and d["mfu"] == pytest.approx(0.1)
    assert d["hardware_tflops_per_s"] == pytest.approx(25.0) and d["hfu"] == pytest.approx(0.125)
    assert d["energy_j_per_step"] == pytest.approx(30.0) and d["tokens_per_j"] == pytest.approx(8192 * 2 / 60)
    bare = throughput.rates([0.2], 4, None, 1e12, 1, None)
    assert bare["mfu"] is None and "tokens_per_s" not in bare and "energy_j_per_step" not in bare
    assert "mfu_fp8" not in d
    fp8 = throughput.rates([0.1, 0.3], 8, 8192, 4e12, 2, 100.0, peak_fp8_tflops=200.0)
    assert fp8["mfu"] == pytest.approx(0.1) and fp8["mfu_fp8"] == pytest.approx(0.05)  # 10 TFLOP/s per GPU of 200


def test_merged_fp8_rows_recompute_mfu_fp8():
    r = {"status": "ok", "step_times_s": [0.2], "samples_per_step": 8, "model_flops_per_step": 4e12,
         "peak_tflops": 100.0, "peak_fp8_tflops": 200.0, "mfu_fp8": 0.9}
    merged = ranks.merge([r, {**r, "step_times_s": [0.4]}], 2)
    assert merged["mfu_fp8"] == pytest.approx(4e12 / 0.4 / 1e12 / 2 / 200.0)  # from the slowest step, not rank 0's


def test_two_ranks_merge_to_the_same_rates_from_the_slowest_steps():
    def rank(steps, energy):
        return {"status": "ok", "step_times_s": steps, "samples_per_step": 8, "tokens_per_step": 8192,
                "model_flops_per_step": 4e12, "peak_tflops": 100.0, "energy_j": energy, "mfu": 0.5}

    merged = ranks.merge([rank([0.1, 0.3], 25.0), rank([0.2, 0.2], 35.0)], 2)
    assert merged["step_times_s"] == [0.2, 0.3]                    # the slowest rank ends each step
    want = throughput.rates([0.2, 0.3], 8, 8192, 4e12, 2, 100.0, None, 60.0)
    for k, v in want.items():
        assert merged[k] == pytest.approx(v), k
    assert merged["energy_j"] == 60.0 and merged["energy_j_per_rank"] == [25.0, 35.0]


def test_a_nonfinite_loss_is_an_error_with_its_timings_kept():
    from benchbench.worker.measure import nonfinite

    ok = {"status": "ok", "loss_last": 2.5, "tokens_per_s": 100.0}
    assert nonfinite(ok) == ok
    bad = nonfinite({"status": "ok", "loss_last": float("nan"), "tokens_per_s": 100.0})
    assert bad["status"] == "error" and bad["error_type"] == "NonFiniteLoss" and bad["tokens_per_s"] == 100.0
    assert "broke training" in bad["reason"] and nonfinite({"loss_last": float("inf")})["status"] == "error"
