"""torch.profiler over a short, separate window after the timed one (never inside it).

Schedule: WAIT steps skipped, WARMUP steps traced and discarded, ACTIVE steps recorded. The
Chrome trace is stored gzipped as artifacts/<config>-r<k>/trace.json.gz (opens in Perfetto or
chrome://tracing) and summarized into profile_* columns (collectors/trace_summary.py).
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

from benchbench.plugins.components import Setting, lazy

torch, tprof = lazy("torch"), lazy("torch.profiler")

from benchbench.collectors import trace_summary
from benchbench.collectors.base import Collector

WAIT, WARMUP, ACTIVE = 1, 1, 3


class Profiler(Collector):
    # its switch: on with profile: true (not listed in collect:)
    SETTINGS = (Setting("profile", False, "torch.profiler window after the timed one; trace + GPU time by category",
                        type=bool, in_id=False),)
    name = "profiler"

    def after(self):
        ctx = self.ctx
        self.out = {"profile_steps": ACTIVE}
        tmp = Path(tempfile.mkdtemp(prefix="benchbench-trace-"))
        raw = tmp / "trace.json"
        acts = [tprof.ProfilerActivity.CPU] + ([tprof.ProfilerActivity.CUDA] if ctx.dev.type == "cuda" else [])
        try:
            with tprof.profile(activities=acts, schedule=tprof.schedule(wait=WAIT, warmup=WARMUP, active=ACTIVE),
                               on_trace_ready=lambda p: p.export_chrome_trace(str(raw))) as prof:
                for _ in range(WAIT + WARMUP + ACTIVE):
                    ctx.engine.step(ctx.batches)
                    prof.step()
            if ctx.dev.type == "cuda":
                torch.cuda.synchronize(ctx.dev)
            self.out.update(trace_summary.summarize(trace_summary.load(raw)))
            dest = ctx.artifact("trace.json.gz")
            if dest is not None:
                with open(raw, "rb") as src, gzip.open(dest, "wb", compresslevel=6) as dst:
                    shutil.copyfileobj(src, dst)
                self.out["profile_trace"] = ctx.relative(dest)
        except Exception as e:
            self.out["profile_reason"] = f"profiling failed: {type(e).__name__}: {str(e)[:300]}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def fields(self) -> dict:
        return dict(getattr(self, "out", {}))
