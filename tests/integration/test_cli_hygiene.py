"""What a new user hits, through the real command line: SIGTERM, two runs into one directory, huge
sweeps, broken model modules, read-only places, damaged rows, output without a terminal, strict
settings, settings a model ignores, compile without warmup, incomplete runs, --version and a --help
that imports no torch. Every bad input: a clear message, exit 2, nothing lost."""

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchbench.store import results
from tests.integration.test_cli import BENCHBENCH, cli_run, plain_output, spawn, wait_for_rows  # noqa: F401

TINY = textwrap.dedent("""\
    name: tiny
    model: {name: gpt, size: tiny, n_layer: 1, n_embd: 32, n_head: 2, seq_len: 16}
    defaults: {device: cpu, batch_size: 2, seq_len: 16, warmup_steps: 1, measured_steps: 2, repeats: 1, timeout_s: 120}
    sweep:
      attention: [eager, sdpa]
    """)


def suite(tmp_path, text=TINY, name="tiny.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_version_and_a_help_without_torch():
    p = cli_run("--version")
    assert p.returncode == 0 and p.stdout.startswith("benchbench ")
    code = ("import sys, runpy; sys.argv = ['benchbench', '--help']\n"
            "try:\n    runpy.run_module('benchbench.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().endswith("NO-TORCH"), out.stdout[-300:] + out.stderr[-300:]
    code = code.replace("'--help'", "'list', 'axes'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().endswith("NO-TORCH") and "batch_size" in out.stdout


def test_sigterm_is_an_interrupt_with_the_rows_kept(tmp_path):
    s = suite(tmp_path, TINY.replace("repeats: 1", "repeats: 4"))
    run_dir = tmp_path / "run"
    proc = spawn("run", s, "-o", run_dir, "-q")
    wait_for_rows(run_dir, 1, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and f"benchbench run --resume {run_dir}" in err
    run = json.loads((run_dir / "run.json").read_text())
    assert run["interrupted"] is True and len(results.read_rows(run_dir)) >= 1
    assert "configs recorded" in err  # the table says it is incomplete


def test_two_runs_into_one_directory_the_second_is_refused(tmp_path):
    s = suite(tmp_path, TINY.replace("repeats: 1", "repeats: 3"))
    run_dir = tmp_path / "run"
    first = spawn("run", s, "-o", run_dir, "-q")
    wait_for_rows(run_dir, 1, first)
    second = cli_run("run", s, "-o", run_dir, "-q")
    assert second.returncode == 2 and ("is being written by another benchbench run" in second.stderr
                                       or "already holds a run" in second.stderr), second.stderr
    first.communicate(timeout=300)
    assert first.returncode == 0
    keys = [(r["config_id"], r["repeat"]) for r in results.read_rows(run_dir)]
    assert len(keys) == len(set(keys)) == 6          # every row once


def test_a_huge_sweep_asks_for_yes(tmp_path):
    axes = "\n".join(f"  seed: [{', '.join(map(str, range(100)))}]" if i == 0 else
                     f"  lr: [{', '.join(str(0.001 * (k + 1)) for k in range(200))}]" for i in range(2))
    s = suite(tmp_path, TINY.replace("sweep:\n  attention: [eager, sdpa]\n", f"sweep:\n{axes}\n"))
    p = cli_run("run", s, "--results-root", tmp_path / "r")
    assert p.returncode == 2 and "20,000 configs" in p.stderr and "--yes" in p.stderr
    assert not (tmp_path / "r").exists()


def test_a_model_module_that_raises_on_import_is_the_users_to_fix(tmp_path):
    (tmp_path / "broken_model.py").write_text("raise RuntimeError('boom at import')\n")
    s = suite(tmp_path, TINY.replace("model: {name: gpt, size: tiny, n_layer: 1, n_embd: 32, n_head: 2, seq_len: 16}",
                                     "model: {name: 'py:broken_model', size: tiny}"))
    p = cli_run("run", s, "--results-root", tmp_path / "r", cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert "boom at import" in p.stderr and "fix the module" in p.stderr and str(tmp_path) in p.stderr, p.stderr


@pytest.mark.parametrize("defaults,message", [
    ("batch_size: true, seq_len: 16, warmup_steps: 1", "must be a whole number or max, not bool True"),
    ("batch_size: '8', seq_len: 16, warmup_steps: 1", "must be a whole number or max, not str '8'"),
    ("batch_size: 2, seq_len: 64, warmup_steps: 1", "64 is longer than gpt tiny's context of 16 tokens"),
    ("batch_size: 2, seq_len: 16, warmup_steps: 0, compile: default",
     "would put compilation inside the timed window; set warmup_steps: 1"),
])
def test_strict_settings(tmp_path, defaults, message):
    s = suite(tmp_path, "name: tiny\nmodel: {name: gpt, size: tiny, n_layer: 1, n_embd: 32, n_head: 2, seq_len: 16}\n"
                        f"defaults: {{device: cpu, measured_steps: 2, {defaults}}}\nsweep:\n  attention: [eager, sdpa]\n")
    p = cli_run("run", s, "--results-root", tmp_path / "r")
    assert p.returncode == 2 and message in p.stderr, p.stderr
    assert "tiny.yaml:" in p.stderr


def test_a_setting_the_model_ignores_is_an_error(tmp_path):
    s = suite(tmp_path, "name: v\nmodel: {name: vit, size: tiny}\ndefaults: {device: cpu}\nsweep:\n  seq_len: [64, 128]\n")
    p = cli_run("run", s, "--results-root", tmp_path / "r")
    assert p.returncode == 2 and "vit takes images, not tokens: seq_len has no effect" in p.stderr, p.stderr


@pytest.fixture
def done_run(tmp_path):
    run_dir = tmp_path / "run"
    p = cli_run("run", suite(tmp_path), "-o", run_dir)
    assert p.returncode == 0, p.stderr
    return p, run_dir


def test_without_a_terminal_each_run_gets_a_line_naming_its_settings(done_run):
    p, _ = done_run
    lines = [line for line in p.stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 2 and "attention=eager r0: ok" in lines[0] and "eta" in lines[0], p.stderr


def test_a_damaged_row_is_read_past_everywhere_and_kept(done_run, tmp_path):
    _, run_dir = done_run
    with open(run_dir / results.ROWS, "a") as f:
        f.write("this line was damaged by hand\n")
    for args in (["table", run_dir], ["compare", run_dir, run_dir], ["report", run_dir, "-o", tmp_path / "r.html"],
                 ["export", run_dir, "--format", "pytest-benchmark", "-o", tmp_path / "e.json"]):
        p = cli_run(*args)
        assert p.returncode == 0, (args, p.stderr)
        assert "rows.jsonl:3: not a row: not JSON (a torn or damaged line) (skipped; the line stays in the file)" in p.stderr and "Warning" not in p.stderr
    assert "damaged by hand" in (run_dir / results.ROWS).read_text()


def test_places_that_cannot_be_written_are_the_users_to_fix(done_run, tmp_path):
    _, run_dir = done_run
    blocked = tmp_path / "a-file"        # a path under a regular file cannot be created, even by root
    blocked.write_text("")
    for args in (["report", run_dir, "-o", blocked / "r.html"],
                 ["export", run_dir, "--format", "pytest-benchmark", "-o", blocked / "e.json"],
                 ["compare", run_dir, run_dir, "--markdown", blocked / "c.md"]):
        p = cli_run(*args)
        assert p.returncode == 2 and "cannot write" in p.stderr and "a-file" in p.stderr, (args, p.stderr)


def test_an_incomplete_run_says_so_under_its_table(done_run):
    _, run_dir = done_run
    run = json.loads((run_dir / "run.json").read_text())
    run["config_ids"].append("feedfeedfeed")
    run["expected_runs"] += 1
    (run_dir / "run.json").write_text(json.dumps(run))
    p = cli_run("table", run_dir)
    assert p.returncode == 0 and "2 of 3 configs recorded (2 of 3 runs)" in p.stderr, p.stderr


def test_estimate_labels_configs_by_the_settings_that_vary(tmp_path):
    s = suite(tmp_path, "name: e\nmodel: {name: gpt, size: 124m}\ndefaults: {device: cuda, engine: deepspeed, "
                        "zero_stage: 2, precision: bf16}\nsweep:\n  reduce_bucket_size: [50000000, 200000000]\n")
    p = cli_run("estimate", s, "--device-memory", "80")
    assert p.returncode == 0, p.stderr
    assert "reduce_bucket_size=50000000" in p.stdout and "reduce_bucket_size=200000000" in p.stdout
    assert "precision=" not in p.stdout and "zero_stage=" not in p.stdout   # what does not vary is not repeated
