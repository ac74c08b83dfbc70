"""The worker's import path: not the current directory (a stray module there must not run), PYTHONPATH kept."""

import os
import subprocess
import sys
from pathlib import Path

import benchbench

ROOT = str(Path(benchbench.__file__).resolve().parent.parent)


def test_a_stray_module_in_the_working_directory_does_not_run_in_a_worker(tmp_path):
    # torch is what the worker imports first after its entry; a torch.py in the working directory
    # would run in its place if the directory were on the import path
    (tmp_path / "torch.py").write_text("open('STRAY_RAN', 'w').close()\nraise SystemExit(99)\n")
    env = {**os.environ, "PYTHONPATH": ROOT}  # PYTHONPATH stays honoured
    p = subprocess.run([sys.executable, "-m", "benchbench.worker", "missing-config.json", "out.json"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=300)
    assert not (tmp_path / "STRAY_RAN").exists(), p.stderr
    assert p.returncode != 99 and "missing-config.json" in p.stderr  # it got past its imports to the config
