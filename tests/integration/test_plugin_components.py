"""Components that declare themselves, through the real command line: a package written here adds a
technique with a setting of its own (listed by `list axes`, validated as the built-ins' are, exit 2 with
one line), an engine with a capability the built-in precision technique honours, and a model, each
in the fewest files docs/architecture.md promises, and runs them in workers on the CPU."""

from __future__ import annotations

import json
import textwrap

from tests.integration.test_plugins_cli import cli, install

# One file per plug-in (+ the distribution's entry_points.txt)
TECHNIQUE = '''
from benchbench.plugins.components import Setting

SETTINGS = (Setting("jitter_scale", 0.0, "toy: noise added to the inputs, relative to their scale", type=float, ge=0),)


def skip_reason(cfg, dev):
    return None


def apply(model, cfg, dev):
    model.jitter_scale = cfg.jitter_scale
    return model


def fields(model, cfg):
    return {"jitter_scale_used": model.jitter_scale}
'''
ENGINE = '''
from benchbench.engines.torch_engine import TorchEngine
from benchbench.plugins.components import Setting


class PlainEngine(TorchEngine):
    def fields(self):  # asked after the timed window: what the last forward saw
        return {**super().fields(), "autocast_seen": self.model.autocast_seen}


class CastingEngine(PlainEngine):
    """Says it casts the parameters itself (as FSDP2's bf16 policy does): precision must not autocast."""

    SETTINGS = (Setting("cast_buffers", False, "casting: cast the buffers too", type=bool),)
    CAPABILITIES = {"casts_params_to": lambda cfg: "bf16" if cfg.precision == "bf16" else None}
'''
MODEL = '''
import torch
import torch.nn as nn

from benchbench.models.common import Built

SIZES = {"tiny": {"width": 8}}
ARGS = ("width",)


class Jittery(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, width), nn.Linear(width, 4)])
        self.jitter_scale, self.autocast_seen = 0.0, None

    def forward(self, x, y):
        self.autocast_seen = torch.is_autocast_enabled(x.device.type)
        x = x + self.jitter_scale * torch.randn_like(x)
        return nn.functional.mse_loss(self.blocks[1](torch.relu(self.blocks[0](x))).float(), y)


def build(size, args, seq_len, image_size):
    model = Jittery({**SIZES[size], **args}["width"])
    n = sum(p.numel() for p in model.parameters())

    def make_batch(batch_size, gen, device):
        x = torch.randn(batch_size, 4, generator=gen)
        return x.to(device), (2 * x).to(device)

    return Built(model=model, make_batch=make_batch, flops_per_sample=6.0 * n, tokens_per_sample=None, n_params=n)
'''
ENTRY_POINTS = """[benchbench.techniques]
jitter = jitterbench_technique

[benchbench.engines]
casting = jitterbench_engine:CastingEngine
plain = jitterbench_engine:PlainEngine

[benchbench.models]
jittery = jitterbench_model
"""


def package(tmp_path):
    where = install(tmp_path / "pkg", "jitterbench", ENTRY_POINTS)
    for name, src in (("technique", TECHNIQUE), ("engine", ENGINE), ("model", MODEL)):
        (where / f"jitterbench_{name}.py").write_text(textwrap.dedent(src))
    return where


def suite(tmp_path, **defaults):
    path = tmp_path / "jitter.yaml"
    path.write_text(textwrap.dedent("""\
        name: jitter
        model: {name: jittery, size: tiny}
        defaults:
          device: cpu
          batch_size: 4
          warmup_steps: 1
          measured_steps: 2
          collect: [memory]
          techniques: [jitter]
          precision: bf16
        """) + "".join(f"  {k}: {v}\n" for k, v in defaults.items()) + "sweep:\n  engine: [plain, casting]\n")
    return path


def test_a_plugin_setting_is_listed_validated_and_run(tmp_path):
    pkg = package(tmp_path)
    axes = cli("list", "axes", "--format", "markdown", path=(pkg,))
    assert axes.returncode == 0, axes.stderr
    row = next(line for line in axes.stdout.splitlines() if line.startswith("| `jitter_scale`"))
    assert "number ≥ 0" in row and "`0.0`" in row and "toy: noise added to the inputs" in row

    bad = cli("run", suite(tmp_path, jitter_scale=-1), "-o", tmp_path / "bad", path=(pkg,))
    assert bad.returncode == 2, bad.stdout + bad.stderr
    [line] = bad.stderr.strip().splitlines()
    assert "jitter.yaml" in line and "defaults.jitter_scale" in line and "greater than or equal to 0" in line, line

    out = cli("run", suite(tmp_path, jitter_scale=0.5), "-o", tmp_path / "run", path=(pkg,))
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {r["engine"]: r for r in map(json.loads, (tmp_path / "run" / "rows.jsonl").read_text().splitlines())}
    assert {e: r["status"] for e, r in rows.items()} == {"plain": "ok", "casting": "ok"}, rows
    assert rows["plain"]["jitter_scale"] == rows["casting"]["jitter_scale_used"] == 0.5
    # the built-in precision technique asks the engine's capability, not its name: no autocast under "casting"
    assert rows["plain"]["autocast_seen"] is True and rows["casting"]["autocast_seen"] is False

    # an engine's setting means nothing to another engine: that config is skipped, saying why
    out = cli("run", suite(tmp_path, cast_buffers="true"), "-o", tmp_path / "foreign", path=(pkg,))
    rows = {r["engine"]: r for r in map(json.loads, (tmp_path / "foreign" / "rows.jsonl").read_text().splitlines())}
    assert rows["casting"]["status"] == "ok" and rows["plain"]["status"] == "skipped", rows
    assert rows["plain"]["reason"] == "cast_buffers is a setting of engine casting; engine=plain"
