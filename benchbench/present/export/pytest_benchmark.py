"""--format pytest-benchmark: one benchmark per config, its rounds the measured step times (seconds) of every
ok repeat, its statistics computed by pytest-benchmark's own Stats class, so
`pytest-benchmark compare a.json b.json` reads them exactly as its own saved runs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchbench.analysis import compare
from benchbench.present.export.common import ExportError, Format
from benchbench.spec import catalogue
from benchbench.store import results


def pytest_benchmark(df: pd.DataFrame, run: dict, env: dict) -> dict:
    try:
        from pytest_benchmark import __version__ as pb_version
        from pytest_benchmark.stats import Stats
    except ImportError:
        raise ExportError("--format pytest-benchmark computes its statistics with pytest-benchmark's own code; "
                          "install it: pip install 'benchbench[dev]' (or pytest-benchmark)") from None
    suite = run.get("suite", "run")
    labels = compare.labels(df)
    benches = []
    for cid, g in df.groupby("config_id", sort=False):
        groups, kind = compare.samples(g, compare.STEP_TIME)
        data = [float(x) for x in (np.concatenate(groups) if groups else [])]
        if not data:  # no ok repeat: pytest-benchmark leaves failed benchmarks out of its JSON too
            continue
        s = Stats()
        for x in data:
            s.update(x)
        stats = {**s.as_dict(), "data": data, "iterations": 1}
        label = labels[cid].replace(", ", ",")
        benches.append({
            "group": suite, "name": f"{suite}[{label}]", "fullname": f"benchbench/{suite}::{suite}[{label}]",
            "params": {"config_id": cid}, "param": cid,
            "extra_info": {k: _plain(g[k].median()) for k in catalogue.exported_by("pytest-benchmark") if k in g and g[k].notna().any()}
            | {"config_id": cid, "label": labels[cid], "repeats_ok": int((g["status"] == "ok").sum())},
            "options": {"timer": "perf_counter", "min_rounds": len(data), "max_time": None, "min_time": None,
                        "warmup": bool(g["warmup_steps"].iloc[0]) if "warmup_steps" in g else False},
            "stats": stats,
        })
    return {
        "machine_info": {"node": env.get("hostname"), "processor": env.get("cpu_model"), "machine": env.get("platform"),
                         "python_version": env.get("python"), "cpu": {"count": env.get("cpu_count")},
                         "gpu": env.get("gpu_name"), "torch": env.get("torch_version"), "cuda": env.get("cuda_version")},
        "commit_info": {"id": env.get("git_commit"), "dirty": env.get("git_dirty"), "project": "benchbench"},
        "benchmarks": benches,
        "datetime": run.get("finished_at") or run.get("started_at") or dt.datetime.now(dt.timezone.utc).isoformat(),
        "version": pb_version,
    }


def _plain(x):
    return None if pd.isna(x) else float(x)


def write(df: pd.DataFrame, run: dict, env: dict, out: Path, **_) -> str:
    data = pytest_benchmark(df, run, env)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(out, json.dumps(data, indent=2) + "\n")
    return f"pytest-benchmark: {len(data['benchmarks'])} benchmarks -> {out}"


FORMAT = Format(write, "pytest-benchmark.json", None)
