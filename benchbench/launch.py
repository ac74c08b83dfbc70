"""One config -> one fresh worker process -> one outcome, whatever the worker does.

The worker runs as `python -m benchbench.worker` in its own process group, its output going
to logs/<config>-r<repeat>.log. The parent waits up to the config's timeout, then kills the
whole group. Outcomes: the worker's own result (ok | skipped | oom | error), or, when it left
none, `timeout`, `killed` (ended by a signal) or `error` (exited without a result).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TAIL_LINES = 20


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _kill_group(p: subprocess.Popen, grace_s: float = 5.0):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


# The worker runs in its own session, so the timeout and Ctrl-C kill its whole group and nothing
# else; it would therefore outlive a parent that is killed (SIGKILL, the OOM killer, a closed SSH
# session) and keep a CPU or GPU busy under the resumed run. On Linux a few lines run first in the
# child: they ask the kernel to SIGKILL it when the parent dies, then exec the worker (same pid).
_ORPHAN_GUARD = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    os._exit(70)  # the parent died before the guard was set
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def _command(*worker_args: str) -> list[str]:
    cmd = ["-m", "benchbench.worker", *worker_args]
    if sys.platform.startswith("linux"):
        return [sys.executable, "-c", _ORPHAN_GUARD, str(os.getpid()), *cmd]
    return [sys.executable, *cmd]


def run(cfg, run_dir: Path, repeat: int) -> dict:
    """Run one repeat of one config in a fresh process and return its result dict."""
    cid = cfg.config_id
    for sub in ("configs", "logs", "work"):
        (run_dir / sub).mkdir(exist_ok=True)
    cfg_path = run_dir / "configs" / f"{cid}.json"
    cfg_path.write_text(cfg.model_dump_json(indent=2))
    result_path = run_dir / "work" / f"{cid}-r{repeat}.json"
    log_path = run_dir / "logs" / f"{cid}-r{repeat}.log"
    result_path.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    artifacts = run_dir / "artifacts" / f"{cid}-r{repeat}"
    cmd = _command(str(cfg_path), str(result_path), str(artifacts))
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=cfg.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(p)
            return {"status": "timeout", "reason": f"no result after timeout_s={cfg.timeout_s:g}",
                    "wall_s": time.perf_counter() - t0, "log_tail": tail(log_path), "log": str(log_path.relative_to(run_dir))}
        except BaseException:  # Ctrl-C or the parent dying: never leave a worker behind
            _kill_group(p, grace_s=2.0)
            raise
    wall = time.perf_counter() - t0
    outcome = {"wall_s": wall, "exit_code": rc, "log": str(log_path.relative_to(run_dir))}
    if result_path.exists():
        try:
            result = json.loads(result_path.read_text())
        except json.JSONDecodeError:
            result = {"status": "error", "reason": "worker result file is not valid JSON"}
        if result.get("status") != "ok":
            outcome["log_tail"] = tail(log_path)
        return {**result, **outcome}
    if rc < 0:
        hint = " (the kernel's OOM killer sends this when host memory runs out)" if rc == -signal.SIGKILL else ""
        return {"status": "killed", "reason": f"worker ended by {_signal_name(rc)}{hint}", "log_tail": tail(log_path), **outcome}
    return {"status": "error", "reason": f"worker exited with code {rc} and no result", "log_tail": tail(log_path), **outcome}
