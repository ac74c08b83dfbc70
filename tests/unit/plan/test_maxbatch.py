"""maxbatch.search on fake memory limits: the exact answer every time, few probes from a good guess."""

import pytest

from benchbench.plan import maxbatch


def limit(n, other=None):
    """A device where batches above n run out of memory (or fail with `other` above n)."""
    return lambda b: "ok" if b <= n else (other or "oom")


@pytest.mark.parametrize("n", [1, 2, 3, 7, 37, 64, 100, 1000, 4097])
@pytest.mark.parametrize("start", [1, 4, 37, 500])
def test_finds_the_exact_largest_batch(n, start):
    s = maxbatch.search(limit(n), start)
    assert s.batch == n
    assert any(b == n and st == "ok" for b, st in s.probes) and any(b == n + 1 and st == "oom" for b, st in s.probes)
    assert len({b for b, _ in s.probes}) == s.n_probes            # no batch probed twice


def test_a_good_guess_needs_few_probes():
    blind = maxbatch.search(limit(37), 4)
    near = maxbatch.search(limit(37), 35, guessed=True)
    assert near.batch == blind.batch == 37
    assert [b for b, _ in near.probes] == [35, 39, 37, 38] and blind.n_probes == 10
    over = maxbatch.search(limit(37), 40, guessed=True)          # a guess a little too high
    assert over.batch == 37 and over.n_probes <= 5


def test_nothing_fits():
    s = maxbatch.search(limit(0), 8)
    assert s.batch == 0 and s.probes[-1] == (1, "oom")


def test_a_config_that_cannot_run_stops_at_once():
    s = maxbatch.search(lambda b: "skipped", 8)
    assert s.batch == 0 and s.n_probes == 1 and s.stopped == "skipped"


def test_an_error_at_a_large_batch_is_the_limit_and_is_said():
    s = maxbatch.search(limit(20, other="error"), 4)
    assert s.batch == 20 and s.stopped == "error"


def test_cap():
    s = maxbatch.search(limit(10**9), 1, cap=100)
    assert s.batch == 100 and s.probes[-1] == (100, "ok")


def test_guess_from_a_linear_memory_model(monkeypatch):
    import sys
    import types

    from benchbench.spec.config import RunConfig

    fake = types.SimpleNamespace(predict=lambda cfg: {"predicted_peak_bytes": 1e9 + 2e8 * cfg.batch_size},
                                 device_bytes_needed=lambda peak: peak)
    monkeypatch.setitem(sys.modules, "benchbench.plan.memory_model", fake)
    monkeypatch.setattr("benchbench.plan.memory_model", fake, raising=False)
    assert maxbatch.guess(RunConfig(), 10e9) == 45                    # (10e9 - 1e9) / 2e8
    assert maxbatch.guess(RunConfig(), 1e9) == 1                      # not even batch 1: start there
    assert maxbatch.guess(RunConfig(), None) is None


def test_guess_from_the_real_memory_model():
    from benchbench.spec.config import RunConfig

    cfg = RunConfig(model="gpt", model_size="124m", seq_len=1024, device="cuda", precision="bf16")
    b = maxbatch.guess(cfg, 80 * 2**30)
    from benchbench.plan import memory_model as mm

    need = lambda n: mm.device_bytes_needed(mm.predict(cfg.model_copy(update={"batch_size": n}))["predicted_peak_bytes"])  # noqa: E731
    assert need(b) <= 80 * 2**30 < need(b + 1)


def test_maxbatch_prestarts_only_on_a_gpu(monkeypatch):
    from benchbench.commands import maxbatch as command
    from benchbench.spec.config import RunConfig
    from benchbench.worker.device import DeviceInfo

    monkeypatch.setattr(command.device, "probe", lambda requested: DeviceInfo("cpu", "cpu", None, 0))
    assert not command.prestart_here(RunConfig(device="auto"))      # auto on a machine without a GPU is a CPU
    monkeypatch.setattr(command.device, "probe", lambda requested: DeviceInfo("cuda", "H200", (9, 0), 1))
    monkeypatch.setattr(command.env, "usable_cores", lambda: 16)
    monkeypatch.setattr(command.env, "load_avg_1m", lambda: 1.0)
    assert command.prestart_here(RunConfig(device="auto"))
