"""The GPU pool's scheduling with fake GPU ids: no GPU, no process, no timing."""

from types import SimpleNamespace

import pytest

from benchbench.sweep import pool


def cfg(name, world_size=1, device="cuda"):
    return SimpleNamespace(config_id=name, world_size=world_size, device=device, nnodes=1)


def drain(p: pool.Pool, finish_order=None):
    """Start what fits, finish the oldest running job, repeat; the log of (event, config, repeat, gpus)."""
    log = []
    while not p.done:
        while (job := p.next_job()) is not None:
            log.append(("start", job.cfg.config_id, job.repeat, tuple(job.gpus), job))
        oldest = p.running[0]
        p.finished(oldest)
        log.append(("end", oldest.cfg.config_id, oldest.repeat, tuple(oldest.gpus), oldest))
    return log


def test_single_gpu_configs_fill_every_gpu_and_never_share_one():
    a, b, c, d, e = (cfg(x) for x in "abcde")
    p = pool.Pool(["0", "1", "2", "3"], [(x, 0) for x in (a, b, c, d, e)])
    log = drain(p)
    starts = [x for x in log if x[0] == "start"]
    assert [s[3] for s in starts[:4]] == [("0",), ("1",), ("2",), ("3",)]
    held = set()
    for ev, _, _, gpus, _ in log:  # a GPU is never handed out twice at once
        if ev == "start":
            assert not held & set(gpus)
            held |= set(gpus)
        else:
            held -= set(gpus)
    assert starts[4][3] == ("0",)  # e waits for the first GPU to come back
    assert max(s[4].beside_max for s in starts) == 3


def test_largest_first_within_a_round_and_rounds_kept_in_order():
    small, big = cfg("small"), cfg("big", world_size=2)
    p = pool.Pool(["0", "1"], [(small, 0), (big, 0), (small, 1), (big, 1)])
    order = [(x[1], x[2]) for x in drain(p) if x[0] == "start"]
    assert order == [("big", 0), ("small", 0), ("big", 1), ("small", 1)]


def test_a_large_job_at_the_head_is_not_overtaken():
    p = pool.Pool(["0", "1"], [(cfg("a"), 0), (cfg("wide", world_size=2), 1), (cfg("b"), 1)])
    first = p.next_job()
    assert first.cfg.config_id == "a" and p.next_job() is None  # wide waits for both GPUs; b must not jump it
    p.finished(first)
    assert p.next_job().cfg.config_id == "wide"


def test_jobs_larger_than_the_pool_are_set_aside():
    p = pool.Pool(["0"], [(cfg("two", world_size=2), 0), (cfg("one"), 0)])
    assert [j[0].config_id for j in p.too_large()] == ["two"]
    assert p.next_job().cfg.config_id == "one"


def test_cpu_configs_run_alone():
    p = pool.Pool(["0", "1"], [(cfg("c", device="cpu"), 0), (cfg("g"), 0)])
    g = p.next_job()
    assert g.cfg.config_id == "g" and p.next_job() is None  # the CPU config waits until the GPU one ends
    p.finished(g)
    c = p.next_job()
    assert c.cfg.config_id == "c" and c.gpus == [] and p.next_job() is None


@pytest.mark.parametrize("spec,visible,env,expected", [
    (None, 4, "", ["0", "1", "2", "3"]), ("all", 2, "", ["0", "1"]), ("1", 4, "", ["0"]), ("3", 4, "", ["0", "1", "2"]),
    ("2,0", 4, "", ["2", "0"]), ("all", 2, "4,5", ["4", "5"]), ("1", 2, "4,5", ["4"]),
])
def test_parse_gpus(monkeypatch, spec, visible, env, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", env)
    assert pool.parse_gpus(spec, visible) == expected


@pytest.mark.parametrize("spec", ["5", "0,0", "x", "0,7", "0"])
def test_parse_gpus_refuses_what_is_not_there(monkeypatch, spec):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with pytest.raises(pool.PoolError, match="visible GPUs"):
        pool.parse_gpus(spec, 4)


def test_cores_are_split_between_gpus_disjointly():
    slices = pool.cpu_slices(["0", "1", "2"], list(range(8)))
    assert slices == {"0": [0, 1, 2], "1": [3, 4, 5], "2": [6, 7]}


def test_gpus_split_the_cores_of_their_own_numa_node():
    local = {"0": set(range(0, 8)), "1": set(range(0, 8)), "2": set(range(8, 16)), "3": set(range(8, 16))}
    slices = pool.cpu_slices(["0", "1", "2", "3"], list(range(16)), local)
    assert slices == {"0": [0, 1, 2, 3], "1": [4, 5, 6, 7], "2": [8, 9, 10, 11], "3": [12, 13, 14, 15]}
    # cores outside this process's affinity are never handed out
    assert pool.cpu_slices(["0", "1"], [0, 1, 2, 3], local) == {"0": [0, 1], "1": [2, 3]}


def test_no_pinning_when_a_gpu_would_get_no_core():
    assert pool.cpu_slices(["0", "1", "2"], [0, 1]) == {}


def test_a_job_runs_on_the_cores_of_its_gpus():
    p = pool.Pool(["0", "1"], [(cfg("wide", 2), 0), (cfg("a"), 0)], cpus_by_gpu={"0": [0, 1], "1": [2, 3]})
    job = p.next_job()
    assert job.gpus == ["0", "1"] and job.cpus == [0, 1, 2, 3]
    p.finished(job)
    assert p.next_job().cpus in ([0, 1], [2, 3])
