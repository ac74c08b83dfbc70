"""The zygote: one process that imports torch and benchbench once, then forks a fresh worker per config.

    python -m benchbench.worker --zygote     (started by sweep/launch.Zygote; talks over stdin/stdout)

Protocol, one JSON or text line each way: the parent sends {"args", "env", "log"}; the zygote forks, answers
"pid N", waits for that child and answers "exit RC" (RC < 0: ended by signal -RC). One child at a time.

Each child is a new process (its own pid and process group, nothing run before it but imports): it takes its
config's environment and log, then runs exactly what `python -m benchbench.worker` runs. CUDA is never
touched here, so each child initializes it itself; a child that crashes ends alone (the zygote only
reports its exit), and a child dies with the zygote (PR_SET_PDEATHSIG), as the zygote dies with the sweep.
At start a throwaway child initializes CUDA where there is a GPU: if that fails, the zygote exits and
the sweep starts workers the plain way.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(70)  # the zygote died before the guard was set


def _import():
    """What every worker imports, paid once here (torch.optim imports torch._dynamo at the first optimizer).
    is_available() through NVML meanwhile: the runtime's device count would initialize CUDA before fork."""
    os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"
    try:
        import torch
        import torch._dynamo  # noqa: F401

        import benchbench.worker.measure  # noqa: F401
        from benchbench import collectors, engines, models, techniques  # noqa: F401
    finally:
        os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    if torch.cuda.is_initialized():
        raise RuntimeError("CUDA was initialized by an import: forked workers could not use it")


def _child(msg: dict, zygote: int) -> None:
    """In the forked child: become the config's worker process, run it, never return."""
    rc = 1
    try:
        os.setsid()  # its own group: the sweep's timeout kills it and whatever it started, nothing else
        _die_with_parent(zygote)
        os.environ.update(msg["env"])
        if os.environ.get("BENCHBENCH_CPUS") and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {int(c) for c in os.environ["BENCHBENCH_CPUS"].split(",")})
        fd = os.open(msg["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        from benchbench.worker import measure

        measure.restart_clock()  # the imports were paid in the zygote: the config's run starts now
        rc = measure.main(msg["args"])
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(rc)


def _canary() -> bool:
    """A throwaway child initializes CUDA (where there is a GPU): forked children can use it."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            import torch

            ok = not torch.cuda.is_available() or bool(torch.ones(1, device="cuda").add(1).item() == 2)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def serve(stdin=None, stdout=None) -> int:
    stdin, stdout = stdin or sys.stdin.buffer, stdout or sys.stdout.buffer
    _import()
    if threading.active_count() > 1:  # fork copies one thread: a lock another held would stay locked
        print(f"zygote: {threading.active_count()} threads after the imports; not forking", file=sys.stderr)
        return 3
    if not _canary():
        print("zygote: a forked child could not initialize CUDA; not forking", file=sys.stderr)
        return 4
    me = os.getpid()
    while True:
        line = stdin.readline()
        if not line.strip():
            return 0  # the sweep closed our stdin: done
        msg = json.loads(line)
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(msg, me)
        stdout.write(f"pid {pid}\n".encode())
        stdout.flush()
        _, status = os.waitpid(pid, 0)
        stdout.write(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
        stdout.flush()
