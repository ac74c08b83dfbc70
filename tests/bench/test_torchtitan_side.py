"""bench/torchtitan: both trainers get the same settings from one place, and torchtitan's logged windows
are read as the table says (the median of those after step 10; colour codes and thousands separators)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import tomllib
import yaml

from benchbench.spec import suite as suites

HERE = Path(__file__).resolve().parents[2] / "bench" / "torchtitan"
sys.path.insert(0, str(HERE))
import configs  # noqa: E402


def analyze_module():
    spec = importlib.util.spec_from_file_location("torchtitan_analyze", HERE / "analyze.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def log(windows):
    return "\n".join(f"[titan] 2026-12-07 - root - INFO - \x1b[31mstep: {s:2}  \x1b[32mloss: 12.1  \x1b[34mtps: {t:,}"
                     f"  \x1b[36mtflops: 376.11\x1b[39m" for s, t in windows) + "\nTraining completed\n"


def test_windows_after_step_ten_give_the_median():
    a = analyze_module()
    text = log([(1, 900), (5, 30_000), (10, 44_000), (15, 45_000), (20, 46_500), (25, 45_500)])
    assert a.titan_windows(text)[0] == (1, 900.0)
    assert a.titan_tokens_per_s(text) == 45_500  # 45,000 / 46,500 / 45,500: the slow early ones left out
    assert a.titan_tokens_per_s(log([(1, 900), (5, 30_000), (10, 44_000)])) is None


def test_both_trainers_get_the_same_settings(tmp_path):
    for name, (size, batch, compiled, fp8) in configs.CONFIGS.items():
        job = tomllib.loads(configs.toml(name, "/tmp/x"))
        assert job["model"]["flavor"] == size.upper() and job["training"]["local_batch_size"] == batch
        assert job["training"]["seq_len"] == configs.SEQ_LEN and job["training"]["max_norm"] == 1.0
        assert job["optimizer"]["implementation"] == "fused" and job["activation_checkpoint"]["mode"] == "none"
        assert job["compile"]["enable"] is compiled
        assert ("quantize.linear.float8" in job["model"]["converters"]) is fp8
        if fp8:
            assert job["quantize"]["linear"]["float8"] == {"recipe_name": "tensorwise", "filter_fqns": ["output"]}
        f = tmp_path / f"{name}.yaml"
        f.write_text(configs.suite(name, 3))
        d = yaml.safe_load(f.read_text())["defaults"]
        assert (d["batch_size"], d["seq_len"], d["grad_clip"], d["optimizer_impl"]) == (batch, configs.SEQ_LEN, 1.0, "fused")
        assert d["precision"] == ("fp8" if fp8 else "bf16") and d["repeats"] == 3
        assert (d["compile"] not in ("off", False)) is compiled  # YAML reads a bare off as false
        cfg, = suites.load(f).expand()  # benchbench takes it (a bad key or value raises)
        assert (cfg.model_size, cfg.batch_size, cfg.grad_clip) == (size, batch, 1.0)
