"""One config in one worker process: what the worker reports for each failure, the timeout, and no
worker outliving its parent. (Every outcome through a whole sweep: test_runner.py.)"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from benchbench.spec.config import RunConfig
from benchbench.sweep import launch
from benchbench.worker import measure as worker

FAULTY = "py:tests.fixtures.faulty_model"


def faulty(size, **kw) -> RunConfig:
    return RunConfig(model=FAULTY, model_size=size, device="cpu", warmup_steps=1, measured_steps=2, **kw)


# ------------------------------------------------------------------ in the worker (in this process: fast)


def test_worker_ok():
    r = worker.run(faulty("ok"))
    assert r["status"] == "ok"
    assert r["step_time_s_n"] == 2 and len(r["step_times_s"]) == 2
    assert r["samples_per_s"] > 0 and r["samples_per_step"] == 8
    assert "tokens_per_s" not in r  # the model has no tokens


def test_worker_error_names_the_exception():
    r = worker.run(faulty("raise"))
    assert (r["status"], r["error_type"], r["reason"]) == ("error", "ValueError", "faulty_model: this size raises on purpose")
    assert "faulty_model.py" in r["traceback_tail"]


def test_worker_oom():
    r = worker.run(faulty("oom"))
    assert (r["status"], r["reason"]) == ("oom", "faulty_model: out of memory on purpose")


def test_worker_oom_without_a_message():
    r = worker.run(faulty("oom-bare"))
    assert (r["status"], r["reason"]) == ("oom", "MemoryError")


def test_worker_oom_that_cuda_libraries_report_as_errors():
    r = worker.run(faulty("cublas"))
    assert r["status"] == "oom" and r["reason"].startswith("RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED")


def test_worker_skips_what_cannot_run_here():
    r = worker.run(faulty("ok", precision="fp16"))
    assert r["status"] == "skipped" and "fp16" in r["reason"]


# ------------------------------------------------------------------ helpers


def test_signal_names():
    assert launch._signal_name(-signal.SIGSEGV) == "SIGSEGV"
    assert launch._signal_name(-signal.SIGKILL) == "SIGKILL"
    assert launch._signal_name(-99) == "signal 99"


def test_tail(tmp_path):
    log = tmp_path / "w.log"
    log.write_text("".join(f"line {i}\n" for i in range(10_000)))
    assert launch.tail(log, 3) == "line 9997\nline 9998\nline 9999"
    assert launch.tail(tmp_path / "missing.log") == ""


def worker_processes(marker: str) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in (p.info["cmdline"] or [])):
            out.append(p)
    return out


# ------------------------------------------------------------------ real workers


def test_timeout_kills_the_worker_group(tmp_path):
    cfg = faulty("hang", timeout_s=1)
    r = launch.run(cfg, tmp_path, 0)
    assert r["status"] == "timeout"
    assert r["reason"] == "no result after timeout_s=1"
    assert r["log"] == f"logs/{cfg.config_id}-r0.log" and (tmp_path / r["log"]).exists()
    assert "exit_code" not in r and "log_tail" in r
    assert (tmp_path / "configs" / f"{cfg.config_id}.json").exists()
    assert worker_processes(str(tmp_path)) == []  # nothing left running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_worker_dies_with_its_parent(tmp_path):
    """A killed parent (SIGKILL, OOM killer) must not leave its worker running under the resumed run."""
    parent_code = textwrap.dedent(f"""
        from pathlib import Path
        from benchbench.sweep import launch
        from benchbench.spec.config import RunConfig
        cfg = RunConfig(model={FAULTY!r}, model_size="hang", device="cpu", timeout_s=600)
        launch.run(cfg, Path({str(tmp_path)!r}), 0)
        """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    children = []
    try:
        deadline = time.monotonic() + 60
        while not children and time.monotonic() < deadline and parent.poll() is None:
            children = psutil.Process(parent.pid).children()
            time.sleep(0.05)
        assert children, "the parent started no worker"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], "the worker outlived its killed parent"
    finally:
        for p in children:
            if p.is_running():
                p.kill()
        if parent.poll() is None:
            parent.kill()


# ------------------------------------------------------------------ the zygote: one import, a fresh fork per run


@pytest.fixture
def forks(monkeypatch):
    """The pid of every worker a zygote forked, in order."""
    pids = []
    fork = launch.Zygote.fork

    def recording(self, *a, **kw):
        p = fork(self, *a, **kw)
        if p is not None:
            pids.append(p.pid)
        return p

    monkeypatch.setattr(launch.Zygote, "fork", recording)
    try:
        yield pids
    finally:
        launch.shutdown()


def test_the_zygote_forks_a_fresh_process_for_every_run(tmp_path, forks):
    first = launch.run(faulty("ok"), tmp_path, 0, prestart=True)
    zygote = launch._zygotes[""]
    assert first["status"] == "ok" and first["prestarted"] is False  # it waited for the zygote's imports
    second = launch.run(faulty("ok", seed=1), tmp_path, 1)  # prestart=False: the lane's zygote still forks it
    assert second["status"] == "ok" and second["exit_code"] == 0 and second["prestarted"] is True
    assert len(forks) == 2 and len(set(forks)) == 2 and zygote.p.pid not in forks  # a new process each time
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in forks)
    assert zygote.alive() and launch._zygotes[""] is zygote


def test_a_forked_worker_gets_its_config_environment_and_log(tmp_path, forks):
    launch.run(faulty("ok"), tmp_path, 0, prestart=True)
    r = launch.run(faulty("raise"), tmp_path, 1)
    assert r["status"] == "error" and r["reason"] == "faulty_model: this size raises on purpose"
    assert (tmp_path / r["log"]).name == f"{faulty('raise').config_id}-r1.log"


def test_a_crashing_or_hanging_worker_ends_alone_and_the_zygote_forks_the_next(tmp_path, forks):
    launch.run(faulty("ok"), tmp_path, 0, prestart=True)
    zygote = launch._zygotes[""]
    crashed = launch.run(faulty("segv"), tmp_path, 0)
    assert crashed["status"] == "killed" and "SIGSEGV" in crashed["reason"]
    hung = launch.run(faulty("hang", timeout_s=3), tmp_path, 0)
    assert hung["status"] == "timeout"
    after = launch.run(faulty("ok", seed=5), tmp_path, 0)
    assert after["status"] == "ok" and after["prestarted"] is True
    assert zygote.alive() and launch._zygotes[""] is zygote and len(set(forks)) == 4


def test_a_dead_zygote_falls_back_to_a_plain_worker(tmp_path, forks):
    launch.run(faulty("ok"), tmp_path, 0, prestart=True)
    launch._zygotes[""].p.kill()
    launch._zygotes[""].p.wait()
    r = launch.run(faulty("ok", seed=2), tmp_path, 0)
    assert r["status"] == "ok" and r["prestarted"] is False and not launch._zygotes


def test_shutdown_ends_the_zygote(tmp_path, forks):
    launch.run(faulty("ok"), tmp_path, 0, prestart=True)
    p = launch._zygotes[""].p
    launch.shutdown()
    assert p.poll() is not None and not launch._zygotes


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="pinning needs Linux and two usable cores")
def test_a_pool_lane_pins_its_zygote_and_its_workers_to_the_lanes_cores(tmp_path, forks):
    core = min(os.sched_getaffinity(0))
    r = launch.run(faulty("ok"), tmp_path, 0, prestart=True, gpus=["7"], cpus=[core])
    assert r["status"] == "ok" and r["cpu_ids"] == str(core)
    zygote = launch._zygotes["7"]  # the lane is the job's GPU: its next job is forked here
    assert os.sched_getaffinity(zygote.p.pid) == {core}
    again = launch.run(faulty("ok", seed=3), tmp_path, 0, gpus=["7"], cpus=[core])
    assert again["status"] == "ok" and again["prestarted"] is True
    other = launch.run(faulty("ok", seed=4), tmp_path, 0, gpus=["6"], cpus=[core])
    assert other["prestarted"] is False  # another GPU's lane had no zygote


def test_torch_threads_default_to_the_usable_cores_and_honour_omp_num_threads(monkeypatch):
    from benchbench.sweep import env

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(env, "usable_cores", lambda: 6)
    assert launch.torch_threads(RunConfig(device="cpu")) == 6
    assert launch.torch_threads(RunConfig(device="cpu"), cpus=[0, 1]) == 2       # a pool lane's pinned cores
    assert launch.torch_threads(RunConfig(device="cpu", world_size=2, engine="ddp")) == 3  # shared by the ranks
    assert launch.torch_threads(RunConfig(device="cuda", world_size=2, engine="ddp")) is None  # torchrun decides
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert launch.torch_threads(RunConfig(device="cpu")) == 1
