"""Environment differences that change the numbers (threads, load, host, CPU, torch), named beside verdicts."""

from benchbench.analysis import environment
from tests.fixtures import runs


def rows(**kw):
    return runs.frame(*[runs.row("a", k, **kw) for k in range(3)])


def test_threads_load_host_and_torch_differences_are_named():
    a = rows(torch_threads=1, load_avg_1m_start=1.0, usable_cores=2)
    b = rows(torch_threads=2, load_avg_1m_start=3.0, usable_cores=2)
    env_b = {**runs.CPU_ENV, "hostname": "other", "torch_version": "2.14.0+cpu", "cpu_model": "Intel Xeon"}
    got = environment.differences(a, runs.CPU_ENV, b, env_b)
    assert got == ["torch threads: 1 (A) vs 2 (B)", "machine load: other work on 0% (A) vs 100% (B) of the usable cores",
                   "host: ci (A) vs other (B)", "CPU: AMD EPYC (A) vs Intel Xeon (B)",
                   "torch version: 2.13.0+cpu (A) vs 2.14.0+cpu (B)"]
    assert environment.differences(a, runs.CPU_ENV, b, env_b, ("baseline", "run"), ("threads",)) == \
        ["torch threads: 1 (baseline) vs 2 (run)"]


def test_the_same_environment_has_no_differences_and_old_rows_fall_back_to_env_json():
    a = rows(torch_threads=2, load_avg_1m_start=1.2, usable_cores=2)
    assert environment.differences(a, runs.CPU_ENV, a, runs.CPU_ENV) == []
    old = rows()  # rows made before torch_threads was recorded: OMP_NUM_THREADS at the run's start
    env_1 = {**runs.CPU_ENV, "noise_start": {"omp_num_threads": "1"}}
    assert environment.differences(old, env_1, old, runs.CPU_ENV) == ["torch threads: 1 (A) vs default (B)"]


def test_compare_prints_the_differences_beside_its_verdict(tmp_path, capsys):
    from benchbench import cli

    a = runs.write_run(tmp_path / "a", runs.config("c", 0.1, torch_threads=1))
    b = runs.write_run(tmp_path / "b", runs.config("c", 0.05, torch_threads=2))
    assert cli.main(["compare", str(a), str(b), "--markdown", str(tmp_path / "c.md")]) == 0
    out = capsys.readouterr().out
    assert "faster: 1" in out and "environment differs: torch threads: 1 (A) vs 2 (B)" in out
    assert "environment differs: torch threads" in (tmp_path / "c.md").read_text()


def test_gate_names_the_differences_beside_its_verdict(tmp_path, capsys):
    from benchbench import cli

    a = runs.write_run(tmp_path / "a", runs.config("c", 0.1, torch_threads=1))
    b = runs.write_run(tmp_path / "b", runs.config("c", 0.1, torch_threads=4))
    assert cli.main(["baseline", "save", str(a), "--name", "base", "--dir", str(tmp_path / "baselines")]) == 0
    capsys.readouterr()
    rc = cli.main(["gate", str(b), "--baseline", str(tmp_path / "baselines" / "base.json"),
                   "--markdown", str(tmp_path / "g.md")])
    err = capsys.readouterr().err
    assert rc == 0 and "gate: PASS" in err
    assert "environment differs: torch threads: 1 (baseline) vs 4 (run)" in err
    assert "torch threads: 1 (baseline) vs 4 (run)" in (tmp_path / "g.md").read_text()
