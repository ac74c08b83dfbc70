"""The suites under bench/ load, expand and expand under --smoke (a benchmark that fails validation on a
GPU machine costs a whole lease); the Llama 8B suite sets torchtitan's benchmark settings."""

from pathlib import Path

import pytest

from benchbench.spec import suite as suites

ROOT = Path(__file__).resolve().parents[1]
BENCH_SUITES = sorted(p for p in (ROOT / "bench").rglob("*.yaml") if "name:" in p.read_text())


@pytest.mark.parametrize("path", BENCH_SUITES, ids=lambda p: str(p.relative_to(ROOT)))
def test_bench_suites_load_and_expand(path):
    s = suites.load(path)
    assert s.expand(), path
    assert s.expand(smoke=True), path


def test_llama8b_at_torchtitans_settings():
    configs = suites.load(ROOT / "bench/torchtitan/suite_llama8b.yaml").expand()
    assert len(configs) == 6  # {selective_op, full} x {eager bf16, compiled bf16, compiled fp8}
    for c in configs:
        assert (c.model_size, c.engine, c.world_size, c.batch_size, c.seq_len) == ("8b", "fsdp", 8, 2, 8192)
        assert (c.fsdp_param_dtype, c.fsdp_reduce_dtype, c.optimizer_impl, c.grad_clip) == ("bf16", "fp32", "fused", 1.0)
        assert c.fp8_fsdp_all_gather is (c.precision == "fp8")
    assert {(c.compile, c.precision) for c in configs} == {("off", "bf16"), ("default", "bf16"), ("default", "fp8")}
