"""Suite loading: expansion (product, exclude, include, overrides, dedupe, --smoke, command-line
overrides, baseline) and validation (every malformed suite gets one exact message: file:line: key: what)."""

import textwrap
from pathlib import Path

import pytest

from benchbench import models
from benchbench.models import gpt
from benchbench.spec import suite as suites
from benchbench.spec.config import FIELDS, RunConfig
from benchbench.spec.suite import AXES, TOP_KEYS, SuiteError

REPO_SUITES = sorted(p for p in (suites.Path(__file__).resolve().parents[3] / "suites").glob("*.yaml"))
GPT = "model: {name: gpt, size: tiny}"
KNOWN_MODELS = ", ".join((*models.MODELS, *getattr(models, "ADAPTER_SPECS", ())))  # other engineers add models


def write(tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(tmp_path, text: str) -> suites.Suite:
    return suites.load(write(tmp_path, text))


def problems(tmp_path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(SuiteError) as e:
        suites.load(path)
    assert str(e.value) == "\n".join(e.value.problems)
    return [p.replace(str(path), "S", 1) for p in e.value.problems]


def axis_values(configs, *names):
    return [tuple(getattr(c, n) for n in names) for c in configs]


# ------------------------------------------------------------------ expansion


def test_product_in_order_with_defaults(tmp_path):
    s = load(tmp_path, f"""
        name: p
        {GPT}
        defaults: {{batch_size: 4, device: cpu}}
        sweep:
          precision: [fp32, bf16]
          attention: [sdpa, eager, flex]
        """)
    configs = s.expand()
    assert axis_values(configs, "precision", "attention") == [
        ("fp32", "sdpa"), ("fp32", "eager"), ("fp32", "flex"), ("bf16", "sdpa"), ("bf16", "eager"), ("bf16", "flex")]
    assert {(c.batch_size, c.device, c.model, c.model_size) for c in configs} == {(4, "cpu", "gpt", "tiny")}
    assert len({c.config_id for c in configs}) == 6


def test_model_section_fills_model_size_and_args(tmp_path):
    s = load(tmp_path, """
        name: m
        model: {name: gpt, size: 124m, n_layer: 4, n_embd: 128}
        """)
    (cfg,) = s.expand()
    assert (cfg.model, cfg.model_size, cfg.model_args) == ("gpt", "124m", {"n_layer": 4, "n_embd": 128})


def test_exclude_drops_matching_points(tmp_path):
    s = load(tmp_path, f"""
        name: x
        {GPT}
        sweep:
          precision: [fp32, bf16]
          attention: [sdpa, eager]
        exclude:
          - {{precision: fp32, attention: eager}}
        """)
    assert axis_values(s.expand(), "precision", "attention") == [("fp32", "sdpa"), ("bf16", "sdpa"), ("bf16", "eager")]


def test_exclude_matches_the_whole_config_defaults_and_overrides_included(tmp_path):
    s = load(tmp_path, f"""
        name: x
        {GPT}
        defaults: {{batch_size: 8}}
        sweep:
          precision: [fp32, bf16]
          checkpointing: [none, full]
        overrides:
          - {{match: {{checkpointing: full}}, set: {{batch_size: 32}}}}
        exclude:
          - {{precision: bf16, batch_size: 8}}      # batch_size comes from defaults
          - {{precision: fp32, batch_size: 32}}     # batch_size comes from an override
        """)
    assert axis_values(s.expand(), "precision", "checkpointing", "batch_size") == [("fp32", "none", 8), ("bf16", "full", 32)]


def test_overrides_apply_in_order_to_matching_configs(tmp_path):
    s = load(tmp_path, f"""
        name: o
        {GPT}
        sweep:
          batch_size: [32, 16, 8]
        overrides:
          - {{match: {{batch_size: 16}}, set: {{grad_accum: 2}}}}
          - {{match: {{batch_size: 8}}, set: {{grad_accum: 4, precision: bf16}}}}
          - {{match: {{grad_accum: 4}}, set: {{seed: 7}}}}   # sees what the rule before it set
        """)
    assert axis_values(s.expand(), "batch_size", "grad_accum", "precision", "seed") == [
        (32, 1, "fp32", 0), (16, 2, "fp32", 0), (8, 4, "bf16", 7)]


def test_include_adds_configs_and_its_own_values_win_over_overrides(tmp_path):
    s = load(tmp_path, f"""
        name: i
        {GPT}
        sweep:
          precision: [fp32, bf16]
        overrides:
          - {{match: {{precision: bf16}}, set: {{batch_size: 4, seed: 3}}}}
        include:
          - {{precision: bf16, batch_size: 16, compile: default}}
        """)
    configs = s.expand()
    assert axis_values(configs, "precision", "batch_size", "seed", "compile") == [
        ("fp32", 8, 0, "off"), ("bf16", 4, 3, "off"),
        ("bf16", 16, 3, "default")]  # batch_size named by the entry wins; seed it does not name comes from the override


def test_include_is_not_excluded(tmp_path):
    s = load(tmp_path, f"""
        name: i
        {GPT}
        sweep: {{precision: [fp32, bf16]}}
        exclude: [{{precision: bf16}}]
        include: [{{precision: bf16, compile: default}}]
        """)
    assert axis_values(s.expand(), "precision", "compile") == [("fp32", "off"), ("bf16", "default")]


def test_duplicates_are_expanded_once(tmp_path):
    s = load(tmp_path, f"""
        name: d
        {GPT}
        sweep:
          precision: [fp32, bf16, fp32]
        include:
          - {{precision: bf16}}           # the same config as a product point
          - {{precision: bf16, seed: 0}}  # seed 0 is the default: the same config again
        """)
    configs = s.expand()
    assert axis_values(configs, "precision") == [("fp32",), ("bf16",)]


def test_smoke_makes_one_tiny_config_per_config(tmp_path):
    s = load(tmp_path, """
        name: sm
        model: {name: gpt, size: 124m, n_layer: 6}
        defaults: {device: cuda, batch_size: 16, seq_len: 1024, measured_steps: 50, repeats: 3, timeout_s: 900}
        sweep:
          seq_len: [512, 1024]
          precision: [fp32, bf16]
          compile: ["off", default]
        smoke: {measured_steps: 2}
        """)
    full, smoke = s.expand(), s.expand(smoke=True)
    assert len(full) == len(smoke) == 8  # nothing merged
    assert axis_values(smoke, "seq_len", "precision", "compile") == axis_values(full, "seq_len", "precision", "compile")
    tiny = {"n_layer": 2, "n_head": 2, "n_embd": 64, "vocab_size": 512}
    for c in smoke:
        assert c.model_size == "124m" and c.model_args == {**tiny, "seq_len": c.seq_len}  # the label, a tiny shape
        assert (c.batch_size, c.device) == (2, "auto")
        assert (c.warmup_steps, c.repeats, c.timeout_s) == (1, 1, 300.0)
        assert c.measured_steps == 2  # the suite's smoke: wins over benchbench's
    assert {c.compile for c in smoke} == {"off", "default"}  # compile runs at tiny scale where the suite has it


def test_smoke_of_the_llama_suite_keeps_its_eight_configs():
    s = suites.load(Path(__file__).parents[3] / "suites" / "llama.yaml")
    full, smoke = s.expand(), s.expand(smoke=True)
    assert len(smoke) == len(full) == 8
    assert axis_values(smoke, "model_size", "compile", "checkpointing") == \
        axis_values(full, "model_size", "compile", "checkpointing")
    assert s.baseline_id(smoke=True) == smoke[0].config_id


def test_command_line_overrides_apply_last(tmp_path):
    s = load(tmp_path, f"""
        name: c
        {GPT}
        defaults: {{device: cuda}}
        sweep: {{device: [cuda, auto]}}
        """)
    assert [c.device for c in s.expand(overrides={"device": "cpu"})] == ["cpu"]  # both points become one config
    assert [c.device for c in s.expand(smoke=True, overrides={"device": "cpu"})] == ["cpu"]  # after smoke's auto


def test_yaml_12_scalars(tmp_path):
    """PyYAML reads YAML 1.1: `compile: off` would be False and 3e-4 a string."""
    s = load(tmp_path, f"""
        name: y
        {GPT}
        defaults: {{compile: off, grad_clip: 1e0}}
        sweep:
          lr: [3e-4, 1.0e-3]
        baseline: {{lr: 1e-3}}
        """)
    configs = s.expand()
    assert [c.lr for c in configs] == [3e-4, 1e-3]
    assert {(c.compile, c.grad_clip) for c in configs} == {("off", 1.0)}
    assert s.baseline_id() == configs[1].config_id


def test_baseline_id(tmp_path):
    s = load(tmp_path, f"""
        name: b
        {GPT}
        sweep:
          precision: [fp32, bf16]
          attention: [sdpa, eager]
        baseline: {{precision: bf16, attention: eager}}
        """)
    configs = s.expand()
    assert s.baseline_id() == configs[3].config_id
    s.baseline = None
    assert s.baseline_id() == configs[0].config_id  # default: the first


def test_baseline_names_the_same_config_under_smoke_and_device_override(tmp_path):
    s = load(tmp_path, f"""
        name: b
        {GPT}
        defaults: {{device: cuda}}
        sweep:
          batch_size: [16, 32]
          precision: [fp32, bf16]
        baseline: {{batch_size: 32, precision: bf16}}
        """)
    smoke = s.expand(smoke=True)
    assert axis_values(smoke, "batch_size", "precision") == [(16, "fp32"), (16, "bf16"), (32, "fp32"), (32, "bf16")]
    assert s.baseline_id(smoke=True) == smoke[3].config_id  # the swept batch sizes stay; its tiny twin is the baseline
    cpu = s.expand(overrides={"device": "cpu"})
    assert s.baseline_id(overrides={"device": "cpu"}) == cpu[3].config_id


@pytest.mark.parametrize("path", REPO_SUITES, ids=lambda p: p.name)
def test_repo_suites_load(path):
    s = suites.load(path)
    for smoke in (False, True):
        configs = s.expand(smoke=smoke)
        assert configs and len({c.config_id for c in configs}) == len(configs)
        assert s.baseline_id(smoke=smoke) in {c.config_id for c in configs}
        assert suites.check_models(s, configs) == []
    assert s.sha256 == suites.hashlib.sha256(path.read_text().encode()).hexdigest()


def test_quickstart_expansion():
    s = suites.load(REPO_SUITES[0].parent / "quickstart.yaml")
    configs = s.expand()
    assert axis_values(configs, "attention", "checkpointing") == [
        ("eager", "none"), ("eager", "full"), ("sdpa", "none"), ("sdpa", "full")]
    assert {(c.repeats, c.seq_len, c.model_args["n_layer"]) for c in configs} == {(3, 128, 4)}
    assert s.baseline_id() == configs[0].config_id


# ------------------------------------------------------------------ validation: one exact message each

BAD = {
    "unknown top-level key": (f"""
        name: s
        {GPT}
        swep: {{precision: [fp32]}}
        """, [f"S:3: swep: unknown top-level key 'swep' (did you mean 'sweep'?); allowed: {', '.join(TOP_KEYS)}"]),
    "unknown axis": (f"""
        name: s
        {GPT}
        sweep:
          precison: [fp32, bf16]
        """, [f"S:4: sweep.precison: unknown axis 'precison' (did you mean 'precision'?); allowed: {', '.join(AXES)}"]),
    "bad literal in an axis": (f"""
        name: s
        {GPT}
        sweep:
          attention: [sdpa, eager]
          precision:
            - fp32
            - fp4
        """, ["S:7: sweep.precision[1]: 'fp4' is not allowed; allowed: fp32, tf32, fp16, bf16, bf16-pure, fp8"]),
    "bad value of an optional setting with fixed values": (f"""
        name: s
        {GPT}
        defaults: {{fsdp_param_dtype: fp16, grad_accum_dtype: fp64}}
        """, ["S:3: defaults.fsdp_param_dtype: 'fp16' is not allowed; allowed: fp32, bf16, null",
              "S:3: defaults.grad_accum_dtype: 'fp64' is not allowed; allowed: fp32, bf16, fp16, null"]),
    "axis not a list": (f"""
        name: s
        {GPT}
        sweep:
          precision: fp32
        """, ["S:4: sweep.precision: 'fp32': an axis is a non-empty list of values, e.g. [fp32, tf32]"]),
    "empty axis": (f"""
        name: s
        {GPT}
        sweep:
          batch_size: []
        """, ["S:4: sweep.batch_size: []: an axis is a non-empty list of values"]),
    "not an axis": (f"""
        name: s
        {GPT}
        sweep:
          repeats: [1, 3]
        """, ["S:4: sweep.repeats: repeats is not an axis: it does not change what is measured; set it in defaults"]),
    "negative batch size": (f"""
        name: s
        {GPT}
        defaults:
          batch_size: -1
        """, ["S:4: defaults.batch_size: -1: Input should be greater than 0"]),
    "batch size not a number": (f"""
        name: s
        {GPT}
        sweep:
          batch_size: [8, x]
        """, ["S:4: sweep.batch_size[1]: 'x': must be a whole number or max, not str 'x'"]),
    "unknown setting in defaults": (f"""
        name: s
        {GPT}
        defaults:
          batch: 8
        """, [f"S:4: defaults.batch: unknown setting 'batch' (did you mean 'batch_size'?); allowed: "
              f"{', '.join(f for f in FIELDS if f not in ('model', 'model_size', 'model_args'))}"]),
    "model setting in defaults": (f"""
        name: s
        {GPT}
        defaults:
          model_size: 124m
        """, ["S:4: defaults.model_size: the model is not a default; set it in model: {name: ..., size: ..., <shape arguments>}"]),
    "unknown model": ("""
        name: s
        model: {name: gtp}
        """, [f"S:2: model.name: unknown model 'gtp'; allowed: {KNOWN_MODELS}, or py:<module>"]),
    "model without a name": ("""
        name: s
        model: {size: tiny}
        """, [f"S:2: model: needs a name; allowed: {KNOWN_MODELS}, or py:<module>"]),
    "unknown size": ("""
        name: s
        model:
          name: gpt
          size: 7b
        """, [f"S:4: model.size: unknown size '7b' for model gpt; allowed: {', '.join(gpt.SIZES)}"]),
    "unknown model argument": ("""
        name: s
        model:
          name: gpt
          n_layers: 4
        """, [f"S:4: model.n_layers: unknown argument 'n_layers' for model gpt; allowed: {', '.join(gpt.ARGS)}"]),
    "model argument not a number (reported once)": ("""
        name: s
        model:
          name: gpt
          n_layer: four
        defaults: {batch_size: 4}
        sweep: {precision: [fp32, bf16]}
        baseline: {precision: fp32}
        """, ["S:4: model.n_layer: 'four': Input should be a valid integer, unable to parse string as an integer"]),
    "unknown swept size": ("""
        name: s
        model: {name: gpt}
        sweep:
          model_size: [tiny, 7b]
        """, [f"S:4: sweep.model_size[1]: unknown size '7b' for model gpt; allowed: {', '.join(gpt.SIZES)}"]),
    "unimportable model module": ("""
        name: s
        model: {name: "py:no_such_module_here"}
        """, ["S:2: model.name: cannot import model module 'no_such_module_here': ModuleNotFoundError: No module named "
              "'no_such_module_here' (looked in PYTHONPATH and installed packages, then DIR; put the module beside the "
              "suite file or its folder on PYTHONPATH)"]),
    "yaml syntax error": (f"""
        name: s
        {GPT}
        sweep:
          precision: [fp32, bf16
        baseline: {{precision: fp32}}
        """, ["S:5: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts on line 4)"]),
    "yaml tab": ("""
        name: s
        model:
        \tname: gpt
        """, ["S:3: not valid YAML: found character '\\t' that cannot start any token"]),
    "not a mapping": ("""
        - name: s
        - sweep: {}
        """, [f"S: a suite is a YAML mapping with keys {', '.join(TOP_KEYS)}"]),
    "empty file": ("", [f"S: a suite is a YAML mapping with keys {', '.join(TOP_KEYS)}"]),
    "missing name": (f"""
        description: no name
        {GPT}
        """, ["S:1: name: required: the suite's name (letters, digits, '-', '_' and '.'; it names the results folder)"]),
    "bad name": (f"""
        name: my suite
        {GPT}
        """, ["S:1: name: 'my suite': letters, digits, '-', '_' and '.' only, not starting with '.' (it names the results folder)"]),
    "dot name": (f"""
        name: ..
        {GPT}
        """, ["S:1: name: '..': letters, digits, '-', '_' and '.' only, not starting with '.' (it names the results folder)"]),
    "section not a mapping": (f"""
        name: s
        {GPT}
        defaults: [batch_size, 8]
        """, ["S:3: defaults: must be a mapping (key: value), got list"]),
    "bad exclude key": (f"""
        name: s
        {GPT}
        sweep: {{precision: [fp32, bf16]}}
        exclude:
          - {{precison: fp32}}
        """, [f"S:5: exclude[0].precison: unknown setting 'precison' (did you mean 'precision'?); allowed: {', '.join(FIELDS)}"]),
    "bad include value": (f"""
        name: s
        {GPT}
        include:
          - {{precision: bf16}}
          - {{compile: fast}}
        """, ["S:5: include[1].compile: 'fast' is not allowed; allowed: off, default, reduce-overhead, max-autotune"]),
    "exclude not a list": (f"""
        name: s
        {GPT}
        exclude: {{precision: fp32}}
        """, ["S:3: exclude: must be a list of mappings, e.g. [{precision: fp32, attention: flash}]; got dict"]),
    "exclude entry not a mapping": (f"""
        name: s
        {GPT}
        exclude:
          - precision=fp32
        """, ["S:4: exclude[0]: 'precision=fp32': an entry is a mapping, e.g. [{precision: fp32, attention: flash}]"]),
    "excludes everything": (f"""
        name: s
        {GPT}
        sweep: {{precision: [fp32, bf16]}}
        exclude: [{{attention: sdpa}}]
        """, ["S:4: exclude: excludes every config of the sweep; nothing would run"]),
    "override without set": (f"""
        name: s
        {GPT}
        overrides:
          - match: {{precision: fp16}}
        """, ["S:4: overrides[0].set: required: a mapping of settings, e.g. [{match: {precision: fp16}, set: {batch_size: 8}}]"]),
    "override with an unknown key": (f"""
        name: s
        {GPT}
        overrides:
          - {{match: {{precision: fp16}}, set: {{batch_size: 8}}, when: always}}
        """, ["S:4: overrides[0].when: unknown key 'when'; allowed: match, set"]),
    "override shaped like an exclude": (f"""
        name: s
        {GPT}
        overrides: {{precision: fp16, batch_size: 8}}
        """, ["S:3: overrides: must be a list of mappings, e.g. [{match: {precision: fp16}, set: {batch_size: 8}}]; got dict"]),
    "override sets a bad value": (f"""
        name: s
        {GPT}
        overrides:
          - match: {{precision: bf16}}
            set:
              grad_accum: 0
        """, ["S:6: overrides[0].set.grad_accum: 0: Input should be greater than 0"]),
    "baseline not a mapping": (f"""
        name: s
        {GPT}
        sweep: {{precision: [fp32, bf16]}}
        baseline: fp32
        """, ["S:4: baseline: 'fp32': must be a mapping of axis values that names one config, e.g. {precision: fp32}"]),
    "baseline names no config": (f"""
        name: s
        {GPT}
        sweep: {{precision: [fp32, bf16]}}
        baseline: {{precision: fp16}}
        """, ["S:4: baseline: {precision: fp16} matches none of the 2 configs; name one by its axis values, e.g. {precision: fp32}"]),
    "baseline names several configs": (f"""
        name: s
        {GPT}
        sweep:
          precision: [fp32, bf16]
          attention: [sdpa, eager]
        baseline: {{precision: bf16}}
        """, ["S:6: baseline: {precision: bf16} matches 2 of the 4 configs; name one, e.g. {precision: bf16, attention: sdpa}"]),
    "baseline unknown key": (f"""
        name: s
        {GPT}
        baseline: {{precission: fp32}}
        """, [f"S:3: baseline.precission: unknown setting 'precission' (did you mean 'precision'?); allowed: {', '.join(FIELDS)}"]),
    "gate not a list": (f"""
        name: s
        {GPT}
        gate: "tokens_per_s:-5%"
        """, ["S:3: gate: 'tokens_per_s:-5%': a list of rules, e.g. [\"tokens_per_s:-5%\", \"peak_allocated_bytes:+3%\"]"]),
    "gate rule that does not parse": (f"""
        name: s
        {GPT}
        gate: ["tokens_per_s:-5%", "tokens_per_s:+5%", "fast"]
        """, ["S:3: gate[1]: rule 'tokens_per_s:+5%': for tokens_per_s higher is better, so a regression is a drop: "
              "write tokens_per_s:-5%",
              "S:3: gate[2]: rule 'fast': expected metric:-N% (a drop of more than N% regresses) or metric:+N% (a rise "
              "of more than N%), e.g. tokens_per_s:-5% or peak_rss_bytes:+3%"]),
    "numerics bad": (f"""
        name: s
        {GPT}
        numerics: {{steps: 0, reference: {{precision: fp9}}, tolerance: 1}}
        """, ["S:3: numerics.tolerance: unknown key 'tolerance'; allowed: steps, reference",
              "S:3: numerics.steps: 0: a whole number of training steps > 0, e.g. 50",
              "S:3: numerics.reference.precision: 'fp9' is not allowed; allowed: fp32, tf32, fp16, bf16, bf16-pure, fp8"]),
    "numerics not a mapping": (f"""
        name: s
        {GPT}
        numerics: yes
        """, ["S:3: numerics: 'yes': true, or {steps: 50, reference: {precision: fp32, attention: eager}}"]),
    "duplicate key": (f"""
        name: s
        {GPT}
        sweep: {{precision: [fp32]}}
        sweep: {{attention: [eager]}}
        """, ["S:4: sweep: given twice; YAML would keep only the last one"]),
    "ranks not a multiple of tp x pp": (f"""
        name: s
        {GPT}
        defaults: {{world_size: 2}}
        sweep: {{tp_size: [1, 4]}}
        """, ["S:4: sweep.tp_size: world_size=2 is not a multiple of tp_size x pp_size = 4 x 1; every data-parallel "
              "replica takes tp_size x pp_size ranks (exclude the combination or change the values)"]),
    "pipeline schedule": (f"""
        name: s
        {GPT}
        defaults: {{pp_schedule: zb}}
        """, ["S:3: defaults.pp_schedule: 'zb' is not allowed; allowed: gpipe, 1f1b, interleaved_1f1b"]),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_malformed_suite_exact_message(tmp_path, case):
    text, expected = BAD[case]
    assert [p.replace(str(tmp_path.resolve()), "DIR") for p in problems(tmp_path, text)] == expected  # DIR: the suite's


def test_gate_rules(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(f"name: s\n{GPT}\ngate: [\"tokens_per_s:-5%\", \"peak_rss_bytes:+3%\"]\n")
    assert suites.load(p).gate == ["tokens_per_s:-5%", "peak_rss_bytes:+3%"]
    p.write_text(f"name: s\n{GPT}\n")
    assert suites.load(p).gate == []


def test_numerics_key(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(f"name: s\n{GPT}\nsweep: {{precision: [fp32, bf16]}}\nnumerics: true\n")
    configs = suites.load(p).expand()
    assert [c.numerics_steps for c in configs] == [50, 50]
    p.write_text(f"name: s\n{GPT}\nnumerics: {{steps: 7, reference: {{attention: sdpa}}}}\n")
    (cfg,) = suites.load(p).expand()
    assert cfg.numerics_steps == 7 and cfg.numerics_reference == {"attention": "sdpa"}
    p.write_text(f"name: s\n{GPT}\n")
    assert suites.load(p).expand()[0].config_id == cfg.config_id   # the check does not change what is measured


def test_every_problem_is_reported_at_once(tmp_path):
    got = problems(tmp_path, """
        name: s
        model: {name: gpt}
        defaults: {batch_size: 0, precision: fp4}
        sweep:
          attention: [sdpa, nope]
        """)
    assert got == [
        "S:3: defaults.batch_size: 0: Input should be greater than 0",
        "S:3: defaults.precision: 'fp4' is not allowed; allowed: fp32, tf32, fp16, bf16, bf16-pure, fp8",
        "S:5: sweep.attention[1]: 'nope' is not allowed; allowed: eager, sdpa, flash, mem_efficient, cudnn, flex",
    ]


def test_unreadable_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(SuiteError) as e:
        suites.load(missing)
    assert e.value.problems == [f"{missing}: cannot read suite file: No such file or directory"]


def test_binary_file(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SuiteError) as e:
        suites.load(path)
    assert e.value.problems == [f"{path}: not a text (UTF-8) file"]


def test_check_models_catches_sizes_set_by_overrides(tmp_path):
    s = load(tmp_path, f"""
        name: s
        {GPT}
        sweep: {{precision: [fp32, bf16]}}
        overrides:
          - {{match: {{precision: bf16}}, set: {{model_size: huge}}}}
        """)
    assert suites.check_models(s, s.expand()) == [
        f"{s.path}: model_size: unknown size 'huge' for model gpt; allowed: {', '.join(gpt.SIZES)}"]


def test_py_model_module_loads(tmp_path):
    s = load(tmp_path, """
        name: s
        model: {name: "py:tests.fixtures.faulty_model", size: ok, width: 4}
        sweep: {model_size: [ok, raise]}
        """)
    assert [(c.model, c.model_size, c.model_args) for c in s.expand()] == [
        ("py:tests.fixtures.faulty_model", "ok", {"width": 4}), ("py:tests.fixtures.faulty_model", "raise", {"width": 4})]
    assert RunConfig(**s.base).model == "py:tests.fixtures.faulty_model"
