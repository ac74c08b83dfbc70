"""The pool's sweep loop with a fake launcher: every job recorded once, on its own GPUs, skips decided
before launch, and an interrupt ends the running workers. No GPU, no process, no timing."""

import threading
from types import SimpleNamespace

import pytest

from benchbench.sweep import concurrent, launch


def cfg(name, world_size=1):
    return SimpleNamespace(config_id=name, world_size=world_size, device="cuda", nnodes=1)


def test_every_job_is_recorded_once_with_its_gpus():
    todo = [(cfg(c), r) for r in range(3) for c in "abcde"]
    rows, lock = [], threading.Lock()

    def start(c, r, gpus, slot, cpus, more):
        return {"status": "ok", "seen_gpus": list(gpus)}

    def record(c, r, result):
        with lock:
            rows.append((c.config_id, r, result))

    n, busy = concurrent.run_pool(todo, ["0", "1", "2"], start, record, lambda c: None)
    assert n == 15 and sorted((c, r) for c, r, _ in rows) == sorted((c.config_id, r) for c, r in todo)
    for _, _, res in rows:
        assert res["gpu_ids"] == ",".join(res["seen_gpus"]) and res["gpu_ids"] in "012"
        assert 0 <= res["configs_beside"] <= 2
    assert busy >= 0


def test_skips_and_too_large_configs_become_rows_without_a_launch():
    launched = []
    rows = []
    todo = [(cfg("wide", 4), 0), (cfg("skip-me"), 0), (cfg("ok"), 0)]
    concurrent.run_pool(todo, ["0", "1"], lambda c, r, g, s, *_: launched.append(c.config_id) or {"status": "ok"},
                        lambda c, r, res: rows.append((c.config_id, res["status"], res.get("reason", ""))),
                        lambda c: "nope" if c.config_id == "skip-me" else None)
    assert launched == ["ok"]
    assert ("skip-me", "skipped", "nope") in rows and any(r[0] == "wide" and "more GPUs" in r[2] for r in rows)


def test_a_launcher_exception_is_an_error_row():
    rows = []

    def boom(c, r, g, s, *_):
        raise RuntimeError("no fork")

    concurrent.run_pool([(cfg("a"), 0)], ["0"], boom, lambda c, r, res: rows.append(res), lambda c: None)
    assert rows[0]["status"] == "error" and "no fork" in rows[0]["reason"]


def test_an_interrupt_ends_the_running_workers(monkeypatch):
    killed = []
    monkeypatch.setattr(launch, "kill_running", lambda: killed.append(True), raising=False)

    def record(c, r, res):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        concurrent.run_pool([(cfg("a"), 0), (cfg("b"), 0)], ["0", "1"], lambda c, r, g, s, *_: {"status": "ok"}, record,
                            lambda c: None)
    assert killed


def test_jobs_get_their_gpus_cores_and_know_whether_more_are_queued():
    seen = {}
    todo = [(cfg("a"), 0), (cfg("b"), 0), (cfg("c"), 0)]

    def start(c, r, gpus, slot, cpus, more):
        seen[c.config_id] = (tuple(gpus), tuple(cpus), more)
        return {"status": "ok"}

    concurrent.run_pool(todo, ["0", "1"], start, lambda *a: None, lambda c: None,
                        cpus_by_gpu={"0": [0, 1], "1": [2, 3]})
    for gpus, cpus, _ in seen.values():
        assert cpus == {"0": (0, 1), "1": (2, 3)}[gpus[0]]
    assert seen["a"][2] is True and seen["c"][2] is False  # nothing queued after the last job
