"""Plug-ins through the real command line: a package found on PYTHONPATH (its *.dist-info/entry_points.txt)
adds a model, a technique, an engine and a collector that `benchbench run` validates, lists and runs in its
workers on the CPU; a broken plug-in is one line and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.fixtures import runs as fx

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "fixtures" / "plugins"
_script = Path(sys.executable).with_name("benchbench")
BENCHBENCH = [str(_script)] if _script.exists() else [sys.executable, "-m", "benchbench.cli"]


def cli(*args, path=(TOY,)) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (REPO, *path))), "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([*BENCHBENCH, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


def write_suite(tmp_path, **defaults) -> Path:
    suite = tmp_path / "toy.yaml"
    suite.write_text(textwrap.dedent("""\
        name: toy-plugins
        model: {name: toy, size: tiny}
        defaults:
          device: cpu
          batch_size: 4
          warmup_steps: 1
          measured_steps: 3
        """) + "".join(f"  {k}: {v}\n" for k, v in defaults.items()) + "sweep:\n  model_size: [tiny, small]\n")
    return suite


def test_a_run_measures_the_plugins_in_its_workers(tmp_path):
    suite = write_suite(tmp_path, engine="toy_engine", techniques="[toy_scale]", collect="[memory, toy_counter]")
    out = cli("run", suite, "-o", tmp_path / "run")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [json.loads(line) for line in (tmp_path / "run" / "rows.jsonl").read_text().splitlines()]
    assert [(r["status"], r["model_size"]) for r in rows] == [("ok", "tiny"), ("ok", "small")], rows
    for r in rows:
        assert (r["model"], r["engine"], r["techniques"], r["collect"]) == ("toy", "toy_engine", "toy_scale",
                                                                            "memory,toy_counter")
        assert r["toy_scale_applied"] is True and r["toy_engine_steps_n"] == 4  # warmup 1 + measured 3
        assert r["toy_forward_calls_n"] == 3  # the collector saw the technique's count in the timed window
    assert "forward calls" in out.stdout, out.stdout  # a column of the summary table, as the metric declares
    compare = cli("compare", tmp_path / "run", tmp_path / "run", "--metric", "toy_forward_calls_n")
    assert compare.returncode == 0, compare.stdout + compare.stderr
    # deterministic, as the plug-in metric declares: one repeat a side is enough for a verdict (not "too few repeats")
    assert compare.stdout.strip().endswith("same: 2"), compare.stdout


def test_the_listings_show_the_plugins():
    models = cli("list", "models")
    assert models.returncode == 0 and "│ toy " in models.stdout, models.stdout + models.stderr
    axes = cli("list", "axes")
    assert axes.returncode == 0 and "plug-ins: toy_engine" in axes.stdout and "plug-ins: toy_scale" in axes.stdout


def install(where: Path, dist: str, entry_points: str, module: str = "") -> Path:
    (where / f"{dist}-0.1.dist-info").mkdir(parents=True)
    (where / f"{dist}-0.1.dist-info" / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (where / f"{dist}-0.1.dist-info" / "entry_points.txt").write_text(entry_points)
    if module:
        (where / f"{dist}_plugin.py").write_text(module)
    return where


def test_a_broken_plugin_is_one_line_and_exit_2(tmp_path):
    broken = install(tmp_path / "broken", "brokenbench", "[benchbench.engines]\nfast = brokenbench_plugin:Fast\n",
                     "import no_such_module_anywhere\n")
    out = cli("run", write_suite(tmp_path, engine="fast"), "-o", tmp_path / "run", path=(TOY, broken))
    assert out.returncode == 2, out.stdout + out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'toy.yaml'}:")
    assert "toy.yaml:8: defaults.engine: 'fast': plug-in 'fast' cannot be imported: ModuleNotFoundError" in line
    assert "entry point fast = brokenbench_plugin:Fast (group benchbench.engines) of distribution brokenbench 0.1" in line
    assert not (tmp_path / "run" / "rows.jsonl").exists()


def test_a_metric_declaration_with_an_unknown_merge_is_one_line_and_exit_2(tmp_path):
    bad = install(tmp_path / "pkg", "badmetric", "[benchbench.metrics]\nhits_pct = badmetric_plugin:HITS\n",
                  "from benchbench.spec.metrics import Metric\nHITS = Metric(higher_is_better=True, merge='p99')\n")
    run = fx.write_run(tmp_path / "run", fx.config("c0", 0.1, hits_pct=90.0))
    out = cli("table", run, path=(bad,))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stdout + out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("error: plug-in metric 'hits_pct': merge 'p99' is not one of 'rank0', 'max', 'min', 'sum', "
                           "'mean', 'median' (entry point hits_pct = badmetric_plugin:HITS"), line


def test_a_plugin_that_takes_a_builtin_name_is_one_line_and_exit_2(tmp_path):
    clash = install(tmp_path, "clashbench", "[benchbench.models]\ngpt = clashbench_plugin\n")
    out = cli("list", "models", path=(clash,))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stdout + out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("error: plug-in 'gpt' clashes with the built-in model 'gpt': entry point gpt = "
                           "clashbench_plugin (group benchbench.models) of distribution clashbench 0.1")
