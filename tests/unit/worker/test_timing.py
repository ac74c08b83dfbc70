"""StepTimer: one interval per step, and the intervals add up to the window (CPU: perf_counter marks;
CUDA: events, gpu-marked). Structure and sums only: no assumption on how fast this machine is."""

import time

import pytest
import torch

from benchbench.worker.timing import StepTimer


def test_one_interval_per_step_summing_to_the_window():
    timer = StepTimer(torch.device("cpu"), 7)
    t0 = time.perf_counter()
    timer.mark()
    for i in range(7):
        sum(range(1000 * (i + 1)))  # some work, of any duration
        timer.mark()
    window = time.perf_counter() - t0
    steps = timer.step_times_s()
    assert len(steps) == 7 and all(s > 0 for s in steps)
    assert sum(steps) <= window and sum(steps) == pytest.approx(timer.marks[-1] - timer.marks[0])


def test_no_steps_no_intervals():
    timer = StepTimer(torch.device("cpu"), 0)
    timer.mark()
    assert timer.step_times_s() == []


@pytest.mark.gpu
def test_cuda_events_one_interval_per_step():
    if not torch.cuda.is_available():
        pytest.skip("needs an NVIDIA GPU (run on a GPU machine: pytest -m gpu)")
    dev = torch.device("cuda")
    a = torch.randn(1024, 1024, device=dev)
    timer = StepTimer(dev, 5)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    timer.mark()
    for _ in range(5):
        a = a @ a * 1e-3
        timer.mark()
    steps = timer.step_times_s()
    window = time.perf_counter() - t0
    assert len(steps) == 5 and all(s > 0 for s in steps) and sum(steps) <= window
