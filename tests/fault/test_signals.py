"""SIGTERM and SIGINT at the edges of a real `benchbench run` (one tiny config on the CPU): the signal
arrives at a phase the test holds the run in (a patched function waits for a file), never after a sleep,
so every case is deterministic. After any signal run.json has finished_at, the rows are whole, and the
resume command is printed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchbench.store import results

REPO = Path(__file__).resolve().parents[2]
TINY = """\
name: tiny
model: {name: gpt, size: tiny, n_layer: 1, n_embd: 32, n_head: 2, seq_len: 16}
defaults: {device: cpu, batch_size: 2, seq_len: 16, warmup_steps: 1, measured_steps: 2, repeats: 1, timeout_s: 120}
"""
# the run, held in `target` until the test has sent its signal (then `go` lets it continue)
DRIVER = """\
import importlib, sys, time
from pathlib import Path
marker, go, target = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
module, name = target.rsplit(".", 1)
mod = importlib.import_module(module)
real = getattr(mod, name)
def held(*a, **k):
    marker.write_text("")
    deadline = time.monotonic() + 300
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return real(*a, **k)
setattr(mod, name, held)
from benchbench import cli
sys.exit(cli.main(sys.argv[4:]))
"""


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout  # a safety net only: the run reaches the marker in seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached the held phase"
        time.sleep(0.02)


END, CLEANUP = "benchbench.store.results.finalize", "benchbench.sweep.launch.shutdown"


@pytest.mark.parametrize("sig,code,phase", [(signal.SIGTERM, 143, END), (signal.SIGINT, 130, END),
                                            (signal.SIGTERM, 143, CLEANUP)],
                         ids=["SIGTERM writing the end", "SIGINT writing the end", "SIGTERM in the sweep's cleanup"])
def test_a_signal_just_after_the_last_row(tmp_path, sig, code, phase):
    suite, run_dir = tmp_path / "tiny.yaml", tmp_path / "run"
    suite.write_text(TINY)
    marker, go = tmp_path / "held", tmp_path / "go"
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, marker, go, phase, "run", suite, "-o", run_dir, "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(marker, proc)
        assert len(results.read_rows(run_dir)) == 1  # the last (only) row is recorded
        proc.send_signal(sig)
        go.write_text("")
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    run = json.loads((run_dir / "run.json").read_text())
    assert run.get("finished_at") and "interrupted" in run, run
    assert f"benchbench run --resume {run_dir}" in err and "Traceback" not in err, err
    assert len(results.read_rows(run_dir)) == 1 and (run_dir / "results.parquet").exists()
