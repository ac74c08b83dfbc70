"""export --format pytest-benchmark: the JSON pytest-benchmark's own loader and statistics accept."""

import pytest

from benchbench.present.export import pytest_benchmark as export
from benchbench.store import results
from tests.fixtures.runs import CPU_ENV, config, row, write_run


def test_pytest_benchmark_format(tmp_path):
    pytest.importorskip("pytest_benchmark")
    from pytest_benchmark.stats import Stats

    d = write_run(tmp_path / "r", [*config("c1", 0.1), row("c2", 0, status="oom", attention="sdpa")])
    data = export.pytest_benchmark(results.load(d), results.read_json(d / "run.json"), CPU_ENV)
    assert set(data) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    [b] = data["benchmarks"]                       # the oom config has no timings: left out, as pytest-benchmark does
    assert b["name"] == "quickstart[attention=eager]" and b["params"] == {"config_id": "c1"}
    steps = [t for r in results.read_rows(d) if r["config_id"] == "c1" for t in r["step_times_s"]]
    assert b["stats"]["data"] == steps and b["stats"]["rounds"] == 60
    assert set(Stats.fields) <= set(b["stats"])
    assert b["stats"]["median"] == pytest.approx(sorted(steps)[29] / 2 + sorted(steps)[30] / 2)
    assert b["extra_info"]["tokens_per_s"] > 0
