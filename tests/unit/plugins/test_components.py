"""What components declare: every setting of the run config comes from one declaration (a technique's, an
engine's, a collector's or the harness's own), techniques ask an engine's capabilities rather than its name,
and the declarations are read without importing torch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchbench import collectors, engines, techniques
from benchbench.plugins.components import CAPABILITY_DEFAULTS, Setting, capabilities_of, settings_of
from benchbench.spec.config import LAYOUT, NOT_IN_ID, SETTINGS, RunConfig, allowed_values

PKG = Path(__file__).resolve().parents[3] / "benchbench"


def test_every_setting_is_declared_once_and_composes_the_config():
    declared = [s.name for part in LAYOUT for s in (part if isinstance(part, tuple) else settings_of(part))]
    assert len(declared) == len(set(declared)) and set(declared) == set(RunConfig.model_fields)
    assert [s.name for s in SETTINGS] == list(RunConfig.model_fields)
    for comp in (*techniques.components().values(), *engines.components().values(), *collectors.COLLECTORS.values()):
        for s in settings_of(comp):
            f = RunConfig.model_fields[s.name]
            assert f.description == s.doc and (s.name in NOT_IN_ID) == (not s.in_id)
    assert allowed_values("engine")[:4] == tuple(engines.ENGINES) and allowed_values("attention")[0] == "eager"
    assert RunConfig().zero_stage == 0 and "zero_stage" in [s.name for s in engines.ENGINES["deepspeed"].SETTINGS]


def test_a_setting_reads_as_its_annotation():
    assert Setting("a", 1, type=int, choices=("auto",)).annotation() == int | __import__("typing").Literal["auto"]
    assert Setting("b", None, choices=("x", "y"), optional=True).annotation().__args__[-1] is type(None)
    with pytest.raises(ValueError, match="give a type or choices"):
        Setting("c", 0).annotation()


def test_capabilities_have_defaults_and_are_checked():
    assert capabilities_of(engines.ENGINES["torch"]) == CAPABILITY_DEFAULTS
    assert capabilities_of(engines.ENGINES["fsdp"])["shards_parameters"] is True

    class Old:  # a plug-in engine of the first interface
        DISTRIBUTED = True

    assert capabilities_of(Old)["needs_process_group"] is True

    class Typo:
        CAPABILITIES = {"shards_params": True}

    with pytest.raises(ValueError, match="unknown capabilities shards_params"):
        capabilities_of(Typo)


def test_the_config_answers_for_its_engine():
    assert RunConfig(engine="fsdp", precision="bf16").capability("casts_params_to") == "bf16"
    assert RunConfig(engine="fsdp", precision="bf16", fsdp_param_dtype="fp32").capability("casts_params_to") is None
    assert RunConfig(engine="deepspeed", precision="fp16").capability("stores_params_in") == "fp16"
    assert RunConfig().capability("compile_scope") == "model"
    assert engines.distributed(RunConfig(engine="ddp")) and not engines.distributed(RunConfig())


def test_techniques_never_ask_for_an_engine_by_name():
    pattern = re.compile(r"cfg\.engine\s*(==|!=|in\b|not in\b)")
    hits = [f"{p.name}:{i}" for p in (PKG / "techniques").glob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def test_the_declarations_are_read_without_torch():
    code = ("import sys\nfrom benchbench.spec.config import RunConfig\nfrom benchbench.plan import feasibility\n"
            "RunConfig(engine='fsdp', precision='bf16').capability('casts_params_to')\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent)
    assert out.stdout.strip() == "NO-TORCH", out.stdout + out.stderr
