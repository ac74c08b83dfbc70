"""One config -> one fresh worker process -> one outcome, whatever the worker does.

The worker runs as `python -m benchbench.worker` in its own process group, its output going
to logs/<config>-r<repeat>.log. The parent waits up to the config's timeout, then kills the
whole group. Outcomes: the worker's own result (ok | skipped | oom | error), or, when it left
none, `timeout`, `killed` (ended by a signal) or `error` (exited without a result).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchbench.engines import distributed
from benchbench.sweep import env as machine
from benchbench.sweep import ranks
from benchbench.sweep.cluster import LOCAL, RESULT_WAIT_S, Cluster

TAIL_LINES = 20
ZYGOTE_WAIT_S = 120.0  # for the zygote's first pid: its imports (~9 s on a GPU host) and a CUDA check


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
# child: they ask the kernel to SIGKILL it when the parent dies, pin it to the pool's cores for its
# GPU (BENCHBENCH_CPUS), then exec the worker (same pid).
_ORPHAN_GUARD = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    os._exit(70)  # the parent died before the guard was set
if os.environ.get("BENCHBENCH_CPUS"):  # the pool's cores for this GPU, before any thread starts
    os.sched_setaffinity(0, {int(c) for c in os.environ["BENCHBENCH_CPUS"].split(",")})
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


SAFE_PATH = ["-P"] if sys.version_info >= (3, 11) else []  # the worker drops the directory itself (worker/__main__)


def _command(*worker_args: str, cfg=None, cluster: Cluster = LOCAL, slot: int = 0) -> list[str]:
    cmd = ["-m", "benchbench.worker", *worker_args]
    if cfg is not None and cfg.world_size > 1:  # a launcher: torchrun (cluster.py) or DeepSpeed's with a hostfile
        cmd = cluster.command(cfg, ["benchbench.worker", *worker_args], slot)
    # -P: neither the guard nor the launcher (`-m torch.distributed.run` imports torch first) imports from the
    # current directory; the ranks it starts drop the directory themselves (worker/__main__.py)
    cmd = [*SAFE_PATH, *cmd]
    if sys.platform.startswith("linux"):
        return [sys.executable, *SAFE_PATH, "-c", _ORPHAN_GUARD, str(os.getpid()), *cmd]
    return [sys.executable, *cmd]


class Zygote:
    """A process that has done the workers' imports (torch, torch._dynamo, benchbench: ~9 s on a GPU host)
    once and forks a fresh worker per config (worker/zygote.py), CUDA untouched until the child: a run no
    longer waits for its own imports. Each run is still its own process, forked from a state where nothing
    has run. Only for GPU configs of one rank; in the GPU pool each GPU has its own (a lane), pinned to
    that GPU's cores like the jobs it forks. If it cannot fork (it died, or refused at start), the run
    starts the plain way."""

    def __init__(self, env: dict | None = None):
        self.boot_log = tempfile.NamedTemporaryFile(prefix="benchbench-zygote-", suffix=".log", delete=False)
        self.p = subprocess.Popen(_command("--zygote"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.boot_log, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                  start_new_session=True)
        self.lock = threading.Lock()  # the pipe is read by the supervising thread and by kill_running
        self.buf = b""

    def fork(self, args: list[str], env: dict, log_path: Path, wait_s: float) -> Forked | None:
        """A worker forked for this config; None if the zygote died or gave no pid within wait_s."""
        try:
            if self.p.poll() is None:
                self.p.stdin.write((json.dumps({"args": args, "env": env, "log": str(log_path)}) + "\n").encode())
                self.p.stdin.flush()
                line = self.readline(wait_s)
                if line and line.startswith("pid "):
                    return Forked(self, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        self.discard()
        return None

    def readline(self, timeout: float | None) -> str | None:
        """The zygote's next line; "" at end of file (it died); None if none came within timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return ""
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def alive(self) -> bool:
        return self.p.poll() is None

    def discard(self):
        if self.p.poll() is None:
            _kill_group(self.p, grace_s=1.0)
        self.boot_log.close()
        Path(self.boot_log.name).unlink(missing_ok=True)


class Forked:
    """A worker forked by a Zygote, seen as a Popen: pid, poll(), wait(timeout), returncode."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self):
        return self._read(0.0)

    def wait(self, timeout: float | None = None):
        if self._read(timeout) is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
        return self.returncode

    def _read(self, timeout: float | None):
        with self.zygote.lock:
            if self.returncode is None:
                line = self.zygote.readline(timeout)
                if line == "":  # the zygote died: its child was killed with it (PR_SET_PDEATHSIG)
                    self.returncode = -signal.SIGKILL
                elif line and line.startswith("exit "):
                    self.returncode = int(line.split()[1])
        return self.returncode


_zygotes: dict[str, Zygote] = {}  # lane (the pool's GPU, "" one config at a time) -> its zygote
_running: set = set()          # every worker process started and not yet waited for (the GPU pool runs several)
_running_lock = threading.Lock()


def kill_running():
    """End every running worker's process group: the sweep is stopping (Ctrl-C, SIGTERM)."""
    with _running_lock:
        procs = list(_running)
    for p in procs:
        _kill_group(p, grace_s=2.0)


def prewarm(lane: str = ""):
    """Start the lane's zygote now, if it has none: its imports overlap what the sweep does before its
    first config."""
    if lane not in _zygotes:
        _zygotes[lane] = Zygote()


def shutdown():
    """End the zygotes, if any (the sweep calls this when it ends)."""
    while _zygotes:
        _zygotes.popitem()[1].discard()


def run(cfg, run_dir: Path, repeat: int, prestart: bool = False, cluster: Cluster = LOCAL, slot: int = 0,
        gpus: list[str] | None = None, cpus: list[int] | None = None) -> dict:
    """Run one repeat of one config in a fresh process and return its result dict. With `prestart`,
    the process is forked by its lane's Zygote (started now if there is none), which stays for the next;
    without, by the lane's Zygote if one is there, else started the plain way.
    `gpus`: the GPU ids this worker may see (CUDA_VISIBLE_DEVICES; the pool hands them out), `cpus`
    the cores it is pinned to (the pool's slice for those GPUs; None: not pinned).
    On several machines (cfg.nnodes > 1) `cluster` says how the ranks start and whether this
    machine leads; `slot` (the run's position in the sweep) picks the rendezvous port."""
    cid = cfg.config_id
    for sub in ("configs", "logs", "work"):
        (run_dir / sub).mkdir(exist_ok=True)
    cfg_path = run_dir / "configs" / f"{cid}.json"
    result_path = run_dir / "work" / f"{cid}-r{repeat}.json"
    node = f".node{cluster.node_rank}" if cfg.nnodes > 1 and not cluster.leader else ""
    log_path = run_dir / "logs" / f"{cid}-r{repeat}{node}.log"
    tmp = cfg_path.with_name(f"{cfg_path.name}.{os.getpid()}")  # every machine writes the same text: atomically
    tmp.write_text(cfg.model_dump_json(indent=2))
    os.replace(tmp, cfg_path)
    if not node:  # the leader clears what an earlier attempt left
        for old in [result_path, *result_path.parent.glob(f"{result_path.name}.rank*")]:
            old.unlink(missing_ok=True)
    args = [str(cfg_path), str(result_path), str(run_dir / "artifacts" / f"{cid}-r{repeat}")]
    with tempfile.TemporaryDirectory(prefix="benchbench-compile-") as tmp:
        cache, cold = compile_cache(cfg, run_dir, repeat, tmp)
        env = {"PYTHONUNBUFFERED": "1", "TORCHINDUCTOR_CACHE_DIR": f"{cache}/inductor", "TRITON_CACHE_DIR": f"{cache}/triton"}
        if gpus is not None:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
        if cpus:
            env["BENCHBENCH_CPUS"] = ",".join(map(str, cpus))
        threads = torch_threads(cfg, cpus)
        if threads and "OMP_NUM_THREADS" not in os.environ:
            env["OMP_NUM_THREADS"] = str(threads)
        if distributed(cfg) and cfg.world_size == 1:  # a one-rank process group, no torchrun
            env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()), RANK="0", LOCAL_RANK="0",
                       WORLD_SIZE="1", LOCAL_WORLD_SIZE="1")
        lane = gpus[0] if gpus and cpus else ""
        out = _supervise(cfg, args, env, run_dir, log_path, result_path, prestart, cluster, slot, lane)
        if cpus:
            out["cpu_ids"] = env["BENCHBENCH_CPUS"]
        if threads:
            out["torch_threads"] = threads
        if cfg.compile != "off":
            out["compile_cache"] = "cold" if cold else "warm"
        return out


def torch_threads(cfg, cpus: list[int] | None = None) -> int | None:
    """The torch threads of each of a config's worker processes: OMP_NUM_THREADS when the user set it, else
    the cores the worker may use (its pinned cores, else this process's affinity) shared by the ranks on
    this machine. None for multi-rank GPU configs, whose launcher (torchrun) decides."""
    given = os.environ.get("OMP_NUM_THREADS", "")
    if given:
        return int(given) if given.isdigit() and int(given) > 0 else None
    if cfg.world_size > 1 and cfg.device != "cpu":
        return None
    cores = len(cpus) if cpus else machine.usable_cores()
    return max(1, cores // max(1, cfg.world_size // max(1, cfg.nnodes)))


def compile_cache(cfg, run_dir: Path, repeat: int, tmp: str) -> tuple[str, bool]:
    """(folder for the compiler's on-disk caches, cold?). `compile_cache: cold` (or no compile): an empty
    folder for every worker, so compile_s measures compiling (seen on an H100: 22.6 s cold, 2.9 s
    from a cache). `shared`: the repeats of a config share one folder in the run directory; the first
    to run compiles cold, the others start warm and skip most of the compile time."""
    if cfg.compile == "off" or getattr(cfg, "compile_cache", "cold") != "shared":
        return tmp, True
    shared = run_dir / "work" / "compile-cache" / cfg.config_id
    cold = not (shared.exists() and any(shared.rglob("*")))
    shared.mkdir(parents=True, exist_ok=True)
    return str(shared), cold


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(path: Path, timeout_s: float = RESULT_WAIT_S) -> bool:
    """Another machine writes it to the shared filesystem: wait a while for it to show up."""
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    return path.exists()


def _start(args: list[str], env: dict, log_path: Path, prestart: bool, cfg, cluster: Cluster, slot: int,
           lane: str = "") -> subprocess.Popen | Forked:
    t0 = time.perf_counter()
    p, ready = None, lane in _zygotes
    if cfg.world_size == 1 and (prestart or ready):
        if not ready:
            _zygotes[lane] = Zygote({k: v for k, v in env.items() if k == "BENCHBENCH_CPUS"})
        ready = ready and _zygotes[lane].alive()
        p = _zygotes[lane].fork(args, env, log_path, ZYGOTE_WAIT_S)
        if p is None:
            _zygotes.pop(lane, None)
    from_zygote = p is not None
    if p is None:
        with open(log_path, "wb") as log:
            p = subprocess.Popen(_command(*args, cfg=cfg, cluster=cluster, slot=slot), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env={**os.environ, **env}, start_new_session=True)
    p.started = t0
    p.prestarted = from_zygote and ready  # the zygote was started before this config came
    with _running_lock:
        _running.add(p)
    return p


def _merge_ranks(result_path: Path, world_size: int, wait_s: float = 0.0):
    """torchrun's ranks each wrote <result>.rank<i>; one merged result in their place (ranks.py).
    wait_s: how long to wait for ranks of other machines (their files reach a shared filesystem late)."""
    per_rank = []
    deadline = time.monotonic() + wait_s
    for i in range(world_size):
        f = Path(f"{result_path}.rank{i}")
        _wait_for(f, max(0.0, deadline - time.monotonic()))
        try:
            per_rank.append(json.loads(f.read_text()))
        except (OSError, json.JSONDecodeError):
            per_rank.append(None)
    if any(r is not None for r in per_rank):
        result_path.write_text(json.dumps(ranks.merge(per_rank, world_size)))


def _supervise(cfg, args, env, run_dir: Path, log_path: Path, result_path: Path, prestart: bool,
               cluster: Cluster = LOCAL, slot: int = 0, lane: str = "") -> dict:
    """Start the worker, wait for it within the timeout, and turn whatever happened into a result."""
    p = _start(args, env, log_path, prestart and cfg.world_size == 1, cfg, cluster, slot, lane)
    t0 = p.started
    try:
        rc = p.wait(timeout=cfg.timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(p)
        return {"status": "timeout", "reason": f"no result after timeout_s={cfg.timeout_s:g}", "prestarted": p.prestarted,
                "wall_s": time.perf_counter() - t0, "log_tail": tail(log_path), "log": str(log_path.relative_to(run_dir))}
    except BaseException:  # Ctrl-C or the parent dying: never leave a worker behind
        _kill_group(p, grace_s=2.0)
        shutdown()
        raise
    finally:
        with _running_lock:
            _running.discard(p)
    wall = time.perf_counter() - t0
    outcome = {"wall_s": wall, "exit_code": rc, "log": str(log_path.relative_to(run_dir)), "prestarted": p.prestarted}
    if cfg.nnodes > 1 and not cluster.leader:  # a follower: node 0 merges and records
        return {"status": "followed", **outcome}
    if cfg.world_size > 1:
        _merge_ranks(result_path, cfg.world_size, RESULT_WAIT_S if cfg.nnodes > 1 and rc == 0 else 0.0)
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
    root = _torchrun_root_cause(log_path) if cfg.world_size > 1 else None
    if root:
        return {"status": "killed" if "SIG" in root else "error", "reason": root, "log_tail": tail(log_path), **outcome}
    return {"status": "error", "reason": f"worker exited with code {rc} and no result", "log_tail": tail(log_path), **outcome}


def _torchrun_root_cause(log_path: Path) -> str | None:
    """torchrun's own summary of the first rank that failed: 'rank 1: exitcode -9 (SIGKILL)'."""
    lines = tail(log_path, 60).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Root Cause")), None)
    if start is None:
        return None
    fields = {}
    for line in lines[start + 1:]:
        key, _, value = line.partition(":")
        if key.strip() in ("rank", "exitcode", "traceback"):
            fields[key.strip()] = value.strip()
    rank = fields.get("rank", "?").split()[0]
    return f"rank {rank}: exitcode {fields.get('exitcode', '?')}; {fields.get('traceback', '')}".strip("; ")
