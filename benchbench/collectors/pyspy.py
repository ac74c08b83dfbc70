"""py-spy: the worker's Python stacks during the timed window, to find host-side overhead.

Two non-blocking py-spy processes sample this process at RATE Hz: one writes speedscope JSON,
one an SVG flame graph, into artifacts/<config>-r<k>/. Missing py-spy, or no permission to
read this process's memory, gives pyspy_reason and the run goes on without it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import time

from benchbench.collectors.base import Collector
from benchbench.plugins.components import Setting

RATE = 100
PR_SET_PTRACER, PR_SET_PTRACER_ANY = 0x59616D61, -1


def _allow_tracing_by_children():
    """Under Yama ptrace_scope=1 a child may not read its parent; let it (best effort)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PTRACER, ctypes.c_ulong(PR_SET_PTRACER_ANY & 0xFFFFFFFFFFFFFFFF), 0, 0, 0)
    except (OSError, AttributeError):
        pass


class PySpy(Collector):
    # its switch: on with pyspy: true (not listed in collect:)
    SETTINGS = (Setting("pyspy", False, "py-spy record of the worker's Python stacks during the timed window",
                        type=bool, in_id=False),)
    name = "pyspy"
    formats = (("speedscope", "pyspy.speedscope.json"), ("flamegraph", "pyspy.svg"))

    def start(self):
        self.procs, self.out = [], {}
        exe = shutil.which("py-spy")
        if exe is None:
            self.out["pyspy_reason"] = "py-spy not installed (pip install py-spy)"
            return
        if self.ctx.artifacts is None:
            self.out["pyspy_reason"] = "no artifacts folder for this run"
            return
        _allow_tracing_by_children()
        for fmt, name in self.formats:
            path = self.ctx.artifact(name)
            cmd = [exe, "record", "--pid", str(os.getpid()), "--rate", str(RATE), "--nonblocking",
                   "--format", fmt, "--output", str(path)]
            log = open(self.ctx.artifact(f"pyspy.{fmt}.log"), "wb")
            self.procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), path, fmt, log))
        time.sleep(1.0)  # let py-spy attach before the window starts (outside the window)

    def stop(self):
        for p, *_ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        for p, path, fmt, log in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
            log.close()
            if path.exists() and path.stat().st_size > 0:
                self.out[f"pyspy_{fmt}"] = self.ctx.relative(path)
            else:
                tail = path.with_name(f"pyspy.{fmt}.log").read_text(errors="replace").strip().splitlines()[-1:]
                self.out["pyspy_reason"] = f"py-spy {fmt} wrote nothing: {' '.join(tail) or f'exit code {p.returncode}'}"

    def fields(self) -> dict:
        return dict(self.out)
