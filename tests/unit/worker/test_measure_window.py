"""The profiled window runs after the timed one, never inside it: a profile cannot change the answer."""

import torch

from benchbench.collectors import profiler
from benchbench.spec.config import RunConfig
from benchbench.worker import measure

TINY = dict(model_args={"n_layer": 1, "n_embd": 16, "n_head": 2, "seq_len": 16, "vocab_size": 32},
            batch_size=2, warmup_steps=1, measured_steps=3, device="cpu")


def test_no_step_of_the_timed_window_is_profiled(monkeypatch, tmp_path):
    steps = []  # (phase, profiler on) per training step, in order

    def record(ctx, phase):
        real = ctx.engine.step

        def step(batches):
            steps.append((phase, torch.autograd._profiler_enabled()))
            return real(batches)
        ctx.engine.step = step
        return real

    real_window, real_after = measure._timed_window, profiler.Profiler.after

    def window(ctx, cfg, active):
        real = record(ctx, "timed")
        try:
            return real_window(ctx, cfg, active)
        finally:
            ctx.engine.step = real

    def after(self):
        real = record(self.ctx, "profiled")
        try:
            return real_after(self)
        finally:
            self.ctx.engine.step = real

    monkeypatch.setattr(measure, "_timed_window", window)
    monkeypatch.setattr(profiler.Profiler, "after", after)
    out = measure.measure(RunConfig(**TINY, profile=True), tmp_path / "artifacts" / "c-r0")
    assert out["profile_steps"] == profiler.ACTIVE and "profile_reason" not in out
    phases = [p for p, _ in steps]
    assert phases == ["timed"] * 3 + ["profiled"] * (profiler.WAIT + profiler.WARMUP + profiler.ACTIVE)
    assert not any(on for p, on in steps if p == "timed")
    assert any(on for p, on in steps if p == "profiled")  # the check itself sees a profiler when there is one
    assert len(out["step_times_s"]) == 3  # only the timed steps are measured
