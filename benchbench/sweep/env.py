"""The environment that produced a run (env.json): hardware, drivers, software, project state."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from benchbench.basics import nvml


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(*args, cwd: str | Path | None = None) -> str | None:
    """git's output in `cwd` (default: the working directory, the user's project), None outside a repository."""
    root = Path(cwd) if cwd is not None else Path.cwd()
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> tuple[list[dict], str | None, str | None]:
    """GPUs through NVML (no CUDA context in this process): (gpus, driver, why none); env.json writes the
    compute capability as "9.0"."""
    gpus, driver, why = nvml.gpus()
    return [{**g, "compute_capability": ".".join(map(str, g["compute_capability"]))} for g in gpus], driver, why


def usable_cpu_ids() -> set[int]:
    """The cores this process may run on (its affinity)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def usable_cores() -> int:
    """Cores this process may run on (its affinity), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gpu_local_cpus(gpu_ids: list[str]) -> dict[str, set[int]]:
    """GPU id (as CUDA_VISIBLE_DEVICES names it) -> the cores of its NUMA node, from NVML; {} when NVML
    or the ids (UUIDs, MIG) do not tell. The pool splits these between the GPUs that share them."""
    if not all(g.isdigit() for g in gpu_ids):
        return {}
    try:
        with nvml.opened() as nv:
            words = (os.cpu_count() or 64) // 64 + 1
            out = {}
            for g in gpu_ids:
                mask = nv.nvmlDeviceGetCpuAffinity(nv.nvmlDeviceGetHandleByIndex(int(g)), words)
                out[g] = {w * 64 + b for w, word in enumerate(mask) for b in range(64) if int(word) >> b & 1}
            return out
    except Exception:  # Unavailable, or a GPU NVML does not know: the pool does without
        return {}


def load_avg_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


BUSY_FRACTION = 0.5  # other work on more than half the usable cores: CPU timings slower and noisier


def busy_warning(load: float | None = None, cores: int | None = None) -> str | None:
    """The line `run` prints at its start when the machine is busy (1-minute load average over the usable
    cores), else None. Timings taken on a busy machine are slower and spread more; the rows record the load."""
    load = load_avg_1m() if load is None else load
    cores = usable_cores() if cores is None else cores
    if load is None or not cores or load / cores <= BUSY_FRACTION:
        return None
    return (f"the machine is busy: 1-minute load average {load:.2f} on {cores} usable core{'s' if cores != 1 else ''}; "
            "CPU timings taken now are slower and noisier than on an idle machine (compare and gate will say so)")


def noise() -> dict:
    """What makes this machine noisy right now: its 1-minute load average against the cores this process
    may use, and the thread settings every worker inherits. Recorded in env.json at the start and end
    of a run, and around every worker in its row (load_avg_1m_start/_end, usable_cores)."""
    return {"load_avg_1m": load_avg_1m(), "usable_cores": usable_cores(),
            **{k.lower(): os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}}


def gpu_clocks() -> list[dict]:
    """Per GPU: SM and memory clocks now, their maxima, and the clock-throttle reasons NVML reports now
    (a card already held back by power or heat before the run starts). [] without NVML."""
    try:
        with nvml.opened() as nv:
            out = []
            for i in range(nv.nvmlDeviceGetCount()):
                h = nv.nvmlDeviceGetHandleByIndex(i)
                rec = {"index": i}
                for key, fn, arg in (("sm_clock_mhz", nv.nvmlDeviceGetClockInfo, nv.NVML_CLOCK_SM),
                                     ("mem_clock_mhz", nv.nvmlDeviceGetClockInfo, nv.NVML_CLOCK_MEM),
                                     ("sm_clock_max_mhz", nv.nvmlDeviceGetMaxClockInfo, nv.NVML_CLOCK_SM)):
                    try:
                        rec[key] = fn(h, arg)
                    except Exception:
                        rec[key] = None
                try:
                    rec["throttle_reasons_bitmask"] = int(nv.nvmlDeviceGetCurrentClocksEventReasons(h))
                except Exception:
                    rec["throttle_reasons_bitmask"] = None
                out.append(rec)
            return out
    except nvml.Unavailable:
        return []


def cpu_reference_s() -> float | None:
    """Seconds one core takes for a fixed piece of torch work (fp32 256x256 matmuls): how
    fast this host is right now (median of 11 tries). Two hosts sold under one CPU name differ by 2x and more, and a busy
    host is slower too; the gate compares it before it compares CPU timings."""
    try:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            a = torch.randn(256, 256, generator=torch.Generator().manual_seed(0))
            times = []
            for _ in range(11):
                t0 = time.perf_counter()
                for _ in range(40):
                    a = torch.tanh(a @ a * 0.01)
                times.append(time.perf_counter() - t0)
            return round(sorted(times)[5], 5)
        finally:
            torch.set_num_threads(threads)
    except Exception:
        return None


def project_state(cwd: str | Path | None = None) -> dict:
    """The git state of the project benchbench runs in (the working directory's repository): the commit, its
    committer time (what orders a history of runs), the branch ("" on a detached HEAD), uncommitted changes.
    benchbench's own commit is added when benchbench runs from another checkout."""
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    out = {
        "git_commit": commit,
        "git_commit_time": _git("show", "-s", "--format=%cI", "HEAD", cwd=cwd) if commit else None,
        "git_branch": (_git("branch", "--show-current", cwd=cwd) or "") if commit else None,
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no", cwd=cwd)) if commit else None,
    }
    own = _git("rev-parse", "HEAD", cwd=Path(__file__).resolve().parent.parent)
    if own and own != commit:
        out["benchbench_git_commit"] = own
    return out


def capture(command: list[str] | None = None) -> dict:
    import torch

    gpus, driver, why = _gpus()
    project = project_state()
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu_count": len(gpus),
        "gpu_name": gpus[0]["name"] if gpus else None,
        "gpus": gpus,
        "gpu_none_reason": why,
        "driver_version": driver,
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "torch_version": torch.__version__,
        "deepspeed_version": _version("deepspeed"),
        "benchbench_version": _version("benchbench"),
        **project,
        "command": command if command is not None else sys.argv,
        "noise_start": {**noise(), "cpu_reference_s": cpu_reference_s()},
        "gpu_clocks_start": gpu_clocks(),
    }
