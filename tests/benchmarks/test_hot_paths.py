"""Benchmarks of benchbench's own hot paths (not of training): suite expansion, loading rows, statistics.

In the normal test run (`python -m pytest`; pyproject's addopts hold --benchmark-disable) every
body runs once and only its result is checked. To time them:

    python -m pytest tests/benchmarks --benchmark-enable
    python -m pytest tests/benchmarks --benchmark-enable --benchmark-autosave      # store in .benchmarks/
    python -m pytest tests/benchmarks --benchmark-enable --benchmark-compare \
        --benchmark-compare-fail=median:25%                                        # gate on the last saved run

Assertions are on results only, never on time.
"""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pytest

from benchbench.basics import stats
from benchbench.spec import suite as suites
from benchbench.spec.config import RunConfig
from benchbench.store import results

N_CONFIGS = 1000
N_ROWS = 10_000
N_SAMPLES = 1000

# 10 batch sizes x 10 sequence lengths x 5 seeds x 2 precisions = 1000 configs; one exclude rule and
# one override keep the expansion's filter and override passes in the measured work.
SWEEP_1000 = textwrap.dedent(
    """\
    name: hot-path-1000
    description: 1000-config sweep for benchmarking suite.load + expand
    model: {name: gpt, size: tiny}
    defaults: {device: cpu, warmup_steps: 1, measured_steps: 5}
    sweep:
      batch_size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
      seq_len: [16, 32, 48, 64, 80, 96, 112, 128, 144, 160]
      seed: [0, 1, 2, 3, 4]
      precision: [fp32, bf16]
    exclude:
      - {batch_size: 11}
    overrides:
      - {match: {precision: bf16}, set: {optimizer_impl: foreach}}
    baseline: {batch_size: 8, seq_len: 64, seed: 0, precision: fp32}
    """
)


def test_expand_1000_config_sweep(benchmark, tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP_1000)

    def load_and_expand():
        s = suites.load(path)
        return s, s.expand()

    s, configs = benchmark(load_and_expand)
    assert s.name == "hot-path-1000"
    assert len(configs) == N_CONFIGS
    assert len({c.config_id for c in configs}) == N_CONFIGS
    assert sum(c.optimizer_impl == "foreach" for c in configs) == N_CONFIGS // 2


def _worker_like_result(cfg: RunConfig, rng: np.random.Generator) -> dict:
    """A result shaped like worker.measure's: timings, statistics, throughput, memory."""
    step_times = (0.1 * rng.lognormal(0.0, 0.05, size=cfg.measured_steps)).tolist()
    mean_step = sum(step_times) / len(step_times)
    samples_per_step = cfg.effective_batch
    tokens_per_step = samples_per_step * (cfg.seq_len or 64)
    out = {
        "status": "ok",
        "device_type": "cpu",
        "device_name": "x86_64",
        "n_params": 123_456,
        "setup_s": 1.5,
        "first_step_s": 0.2,
        "warmup_s": 0.5,
        "measured_s": sum(step_times),
        "rss_window_reset": True,
        "peak_rss_bytes": 400 * 2**20,
        "loss_last": 6.2,
        "step_times_s": step_times,
        **stats.summarize(step_times, "step_time_s"),
        "samples_per_step": samples_per_step,
        "samples_per_s": samples_per_step / mean_step,
        "tokens_per_step": tokens_per_step,
        "tokens_per_s": tokens_per_step / mean_step,
        "model_flops_per_step": 1.0e9 * samples_per_step,
        "model_tflops_per_s": 1.0e9 * samples_per_step / mean_step / 1e12,
        "wall_s": 7.5,
        "exit_code": 0,
        "log": f"logs/{cfg.config_id}-r0.log",
    }
    return out


@pytest.fixture(scope="module")
def run_dir_10k(tmp_path_factory):
    """A run directory whose rows.jsonl holds 10,000 rows: 100 configs x 100 repeats."""
    d = tmp_path_factory.mktemp("run10k")
    run = {"run_id": "20261123T000000Z-abcdef", "suite": "hot-path"}
    rng = np.random.default_rng(0)
    configs = [
        RunConfig(device="cpu", batch_size=b, seq_len=s) for b in range(1, 11) for s in range(16, 176, 16)
    ]
    lines = []
    for cfg in configs:
        result = _worker_like_result(cfg, rng)  # one statistics pass per config keeps the fixture fast
        for repeat in range(N_ROWS // len(configs)):
            row = results.make_row(run, cfg, repeat, {**result, "log": f"logs/{cfg.config_id}-r{repeat}.log"})
            lines.append(json.dumps(row, allow_nan=True, default=str))
    (d / results.ROWS).write_text("\n".join(lines[:-1]) + "\n")
    results.append(d, json.loads(lines[-1]))  # the last one through the store's own writer
    return d


def test_load_10k_rows(benchmark, run_dir_10k):
    df = benchmark(results.load, run_dir_10k)
    assert len(df) == N_ROWS
    assert df["config_id"].nunique() == N_ROWS // 100
    assert (df["schema_version"] == results.SCHEMA_VERSION).all()
    assert {"tokens_per_s", "step_time_s_median", "peak_rss_bytes", "status"} <= set(df.columns)
    assert results.recorded(run_dir_10k) == set(zip(df["config_id"], df["repeat"]))


def test_summarize_1000_samples(benchmark):
    samples = np.random.default_rng(0).lognormal(np.log(0.1), 0.1, size=N_SAMPLES)
    s = benchmark(stats.summarize, samples, "step_time_s")
    assert s["step_time_s_n"] == N_SAMPLES
    assert math.isclose(s["step_time_s_median"], float(np.median(samples)))
    assert math.isclose(s["step_time_s_mean"], float(samples.mean()))
    assert (
        s["step_time_s_min"]
        <= s["step_time_s_p05"]
        <= s["step_time_s_median"]
        <= s["step_time_s_p95"]
        <= s["step_time_s_max"]
    )
    assert s["step_time_s_ci_low"] <= s["step_time_s_median"] <= s["step_time_s_ci_high"]
    # the bootstrap is seeded: the same samples give the same interval
    again = stats.summarize(samples, "step_time_s")
    assert (again["step_time_s_ci_low"], again["step_time_s_ci_high"]) == (
        s["step_time_s_ci_low"],
        s["step_time_s_ci_high"],
    )


def test_expand_100k_config_sweep(benchmark, tmp_path):
    """10^5 configs load, validate and expand in seconds (a 10^6 sweep is refused before expansion: test_cli)."""
    path = tmp_path / "big.yaml"
    path.write_text("name: big\nmodel: {name: gpt, size: tiny}\ndefaults: {device: cpu}\nsweep:\n"
                    "  batch_size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  seq_len: [8, 16, 24, 32, 40, 48, 56, 64, 72, 80]\n"
                    "  seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n  lr: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, "
                    "0.009, 0.01]\n  precision: [fp32, bf16]\n  checkpointing: [none, full, every_k, sqrt, selective]\n")
    configs = benchmark.pedantic(lambda: suites.load(path).expand(), rounds=1, iterations=1)
    assert len(configs) == 100_000 and suites.raw_size(path) == 100_000
