import pytest

from benchbench.store import results
from tests.fixtures import runs


@pytest.fixture
def run_dir(tmp_path):
    """Two ok configs (2 repeats of 20 steps) and one that ran out of memory."""
    return runs.write_run(tmp_path / "run", [*runs.config("c1", 0.1, repeats=2),
                                             *runs.config("c2", 0.05, repeats=2, attention="sdpa"),
                                             runs.row("c3", status="oom", precision="bf16")])


@pytest.fixture
def loaded(run_dir):
    """(rows, run.json, env.json) of run_dir, as the export command reads them."""
    return results.load(run_dir), results.read_json(run_dir / "run.json"), runs.CPU_ENV
