"""The sweep: what is pending, one row per (config, repeat) whatever the worker does, Ctrl-C."""

import os
import signal
from pathlib import Path

import pytest

from benchbench.analysis import summary as tables
from benchbench.spec import suite as suites
from benchbench.spec.config import RunConfig
from benchbench.store import results
from benchbench.sweep import launch, runner

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "suites"
RUN = {"run_id": "t", "suite": "t"}


# ------------------------------------------------------------------ every worker outcome, one sweep


@pytest.fixture(scope="module")
def faulty_sweep(tmp_path_factory):
    suite = suites.load(FIXTURES / "faulty.yaml")
    configs = suite.expand()
    run_dir = tmp_path_factory.mktemp("faulty")
    progress = []
    summary = runner.sweep(configs, run_dir, RUN, on_progress=lambda *a: progress.append(a))
    rows = {r["model_size"] + ("-" + r["precision"] if r["precision"] != "fp32" else ""): r
            for r in results.read_rows(run_dir)}
    return configs, run_dir, summary, rows, progress


def test_sweep_goes_on_past_every_failure(faulty_sweep):
    configs, run_dir, summary, rows, progress = faulty_sweep
    assert [r["config_id"] for r in results.read_rows(run_dir)] == [c.config_id for c in configs]
    assert sorted(rows) == sorted(["ok", "raise", "hang", "segv", "kill", "exit", "oom", "ok-fp16"])
    assert {k: r["status"] for k, r in rows.items()} == {
        "ok": "ok", "raise": "error", "hang": "timeout", "segv": "killed", "kill": "killed",
        "exit": "error", "oom": "oom", "ok-fp16": "skipped"}
    assert (summary.ran, summary.skipped_before_launch, summary.interrupted) == (8, 1, False)
    assert summary.statuses == {"ok": 1, "error": 2, "timeout": 1, "killed": 2, "oom": 1, "skipped": 1}
    assert [(done, total) for done, total, _, _ in progress] == [(i, 8) for i in range(1, 9)]


def test_ok_row(faulty_sweep):
    _, run_dir, _, rows, _ = faulty_sweep
    r = rows["ok"]
    assert (r["exit_code"], r["reason"], r["repeat"], r["run_id"]) == (0, None, 0, "t")
    assert r["samples_per_s"] > 0 and r["step_time_s_n"] == 2
    assert (run_dir / r["log"]).is_file()
    assert "log_tail" not in r


def test_error_row_says_what_was_raised(faulty_sweep):
    r = faulty_sweep[3]["raise"]
    assert (r["error_type"], r["reason"], r["exit_code"]) == ("ValueError", "faulty_model: this size raises on purpose", 0)
    assert "ValueError" in r["traceback_tail"] and "log_tail" in r


def test_timeout_row(faulty_sweep):
    r = faulty_sweep[3]["hang"]
    assert r["reason"] == "no result after timeout_s=2" and r["timeout_s"] == 2.0


def test_killed_rows_name_the_signal(faulty_sweep):
    rows = faulty_sweep[3]
    assert (rows["segv"]["reason"], rows["segv"]["exit_code"]) == ("worker ended by SIGSEGV", -signal.SIGSEGV)
    assert rows["kill"]["reason"] == "worker ended by SIGKILL (the kernel's OOM killer sends this when host memory runs out)"
    assert rows["kill"]["exit_code"] == -signal.SIGKILL


def test_exit_without_result_row(faulty_sweep):
    r = faulty_sweep[3]["exit"]
    assert (r["reason"], r["exit_code"]) == ("worker exited with code 3 and no result", 3)


def test_oom_row(faulty_sweep):
    r = faulty_sweep[3]["oom"]
    assert r["reason"] == "faulty_model: out of memory on purpose"


def test_skipped_before_launch_starts_no_worker(faulty_sweep):
    _, run_dir, _, rows, _ = faulty_sweep
    r = rows["ok-fp16"]
    assert "fp16" in r["reason"] and "log" not in r and "exit_code" not in r
    assert not (run_dir / "logs" / f"{r['config_id']}-r0.log").exists()


def test_mixed_outcomes_finalize_and_summarize(faulty_sweep):
    configs, run_dir, _, _, _ = faulty_sweep
    results.finalize(run_dir)
    df = results.load(run_dir)
    assert (run_dir / "results.parquet").is_file() and (run_dir / "results.csv").is_file()
    t = tables.summary(df, configs[0].config_id).set_index("config_id")
    assert t.loc[configs[0].config_id, "speedup"] == 1.0
    assert list(t["status"]) == ["ok", "error", "timeout", "killed", "killed", "error", "oom", "skipped"]


def test_nothing_pending_after_a_complete_sweep(faulty_sweep):
    configs, run_dir, _, _, _ = faulty_sweep
    assert runner.pending(configs, run_dir) == []


# ------------------------------------------------------------------ pending and interruption (no workers)


def test_pending_interleaves_repeats_and_skips_recorded(tmp_path):
    a, b = RunConfig(seed=1, repeats=3), RunConfig(seed=2, repeats=2)
    assert [(c.seed, r) for c, r in runner.pending([a, b], tmp_path)] == [(1, 0), (2, 0), (1, 1), (2, 1), (1, 2)]
    results.append(tmp_path, results.make_row(RUN, a, 1, {"status": "error"}))
    results.append(tmp_path, results.make_row(RUN, b, 0, {"status": "ok"}))
    assert [(c.seed, r) for c, r in runner.pending([a, b], tmp_path)] == [(1, 0), (2, 1), (1, 2)]


@pytest.fixture
def fake_worker(monkeypatch):
    """launch.run without a process: ok rows; the test can make the n-th call raise."""
    calls = []

    def fake_run(cfg, run_dir, repeat, prestart=False, cluster=None, slot=0, gpus=None):
        calls.append((cfg.config_id, repeat))
        if len(calls) == fake_run.interrupt_at:
            raise KeyboardInterrupt
        return {"status": "ok", "samples_per_s": 1.0, "measured_s": 0.5}

    fake_run.interrupt_at = None
    monkeypatch.setattr(launch, "run", fake_run)
    return fake_run, calls


def test_ctrl_c_during_a_worker_stops_the_sweep_with_the_rows_so_far(tmp_path, fake_worker):
    fake_run, calls = fake_worker
    configs = [RunConfig(device="cpu", seed=s) for s in range(4)]
    fake_run.interrupt_at = 3
    summary = runner.sweep(configs, tmp_path, RUN)
    assert summary.interrupted and summary.ran == 2 and summary.measured_s == 1.0
    assert [r["seed"] for r in results.read_rows(tmp_path)] == [0, 1]
    fake_run.interrupt_at = None  # --resume: only what is missing
    summary = runner.sweep(configs, tmp_path, RUN)
    assert not summary.interrupted and summary.ran == 2
    assert [r["seed"] for r in results.read_rows(tmp_path)] == [0, 1, 2, 3]


def test_ctrl_c_while_a_row_is_written_finishes_the_row_first(tmp_path, fake_worker, monkeypatch):
    real_append = results.append

    def append_interrupted(run_dir, row):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives mid-write
        real_append(run_dir, row)

    monkeypatch.setattr(results, "append", append_interrupted)
    # Ctrl-C at its default even where this test runs as a background job (SIGINT ignored there)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        configs = [RunConfig(device="cpu", seed=s) for s in range(3)]
        summary = runner.sweep(configs, tmp_path, RUN)
    finally:
        signal.signal(signal.SIGINT, old)
    assert summary.interrupted
    assert summary.ran == 1 and summary.statuses == {"ok": 1}  # the row on disk is counted
    assert [r["seed"] for r in results.read_rows(tmp_path)] == [0]
    assert signal.getsignal(signal.SIGINT) is old  # handler restored


def test_cuda_config_without_gpu_is_skipped_without_a_worker(tmp_path, fake_worker, monkeypatch):
    _, calls = fake_worker
    monkeypatch.setattr(runner, "probe", lambda device: runner.DeviceInfo("cuda", "none", None, 0)
                        if device == "cuda" else runner.DeviceInfo("cpu", "x86_64"))
    configs = [RunConfig(device="cuda"), RunConfig(device="cpu")]
    summary = runner.sweep(configs, tmp_path, RUN)
    rows = results.read_rows(tmp_path)
    assert [(r["device"], r["status"]) for r in rows] == [("cuda", "skipped"), ("cpu", "ok")]
    assert rows[0]["reason"] == "device=cuda but this machine has no NVIDIA GPU"
    assert calls == [(configs[1].config_id, 0)] and summary.skipped_before_launch == 1


def test_an_ignored_ctrl_c_stays_ignored_while_a_row_is_written(tmp_path, fake_worker, monkeypatch):
    real_append = results.append

    def append_interrupted(run_dir, row):
        os.kill(os.getpid(), signal.SIGINT)
        real_append(run_dir, row)

    monkeypatch.setattr(results, "append", append_interrupted)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup or in a background job
    try:
        summary = runner.sweep([RunConfig(device="cpu", seed=s) for s in range(2)], tmp_path, RUN)
    finally:
        signal.signal(signal.SIGINT, old)
    assert not summary.interrupted and summary.ran == 2


def test_a_spare_worker_starts_only_beside_two_idle_cores(monkeypatch):
    from benchbench.sweep import env, runner

    monkeypatch.setattr(env, "usable_cores", lambda: 1)
    monkeypatch.setattr(env, "load_avg_1m", lambda: 0.0)
    assert not runner._spare_fits()                      # one usable core: the imports would share it
    monkeypatch.setattr(env, "usable_cores", lambda: 16)
    monkeypatch.setattr(env, "load_avg_1m", lambda: 15.5)
    assert not runner._spare_fits()                      # sixteen cores, all busy
    monkeypatch.setattr(env, "load_avg_1m", lambda: 1.0)
    assert runner._spare_fits()


def test_one_config_at_a_time_gets_the_first_gpus_it_needs():
    from types import SimpleNamespace

    from benchbench.sweep import runner

    one, two = (SimpleNamespace(device="cuda", world_size=w, nnodes=1) for w in (1, 2))
    assert runner._gpus_for(one, ["3", "5"]) == ["3"] and runner._gpus_for(two, ["3", "5"]) == ["3", "5"]
    assert runner._gpus_for(two, ["3"]) is None                # --gpus 1: a 2-GPU config sees every visible GPU
    assert runner._gpus_for(SimpleNamespace(device="cpu", world_size=1, nnodes=1), ["0"]) is None
    assert runner._gpus_for(one, None) is None


def test_every_row_of_a_smoke_run_is_marked_smoke(tmp_path, fake_worker):
    configs = [RunConfig(device="cpu", seed=s) for s in range(2)]
    for d in ("smoke", "real"):
        (tmp_path / d).mkdir()
    runner.sweep(configs, tmp_path / "smoke", {**RUN, "smoke": True})
    runner.sweep(configs, tmp_path / "real", RUN)
    assert [r.get("smoke") for r in results.read_rows(tmp_path / "smoke")] == [True, True]
    assert [r.get("smoke") for r in results.read_rows(tmp_path / "real")] == [None, None]
