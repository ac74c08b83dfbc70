"""What every export format shares: the per-config settings and metrics, the missing-library error."""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchbench.analysis import compare, cost
from benchbench.analysis import value as values
from benchbench.basics.errors import UserError
from benchbench.spec.config import FIELDS

# row columns that are neither settings nor metrics
IDENTITY = ("schema_version", "run_id", "suite", "config_id", "repeat", "status", "reason", "exit_code")


# ExportError: a format cannot be written (its library is missing, nothing to export): the message says what to do
ExportError = UserError


@dataclass(frozen=True)
class Format:
    write: Callable[..., str]  # write(df, run, env, out: Path, **options) -> one line saying what was written
    default_output: str  # under the run directory
    extra: str | None  # the pip extra with its library (None: nothing to install)


def need(module: str, extra: str, what: str):
    """Import the format's library, or ExportError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(f"--format {what} writes with the {module.split('.')[0]} library, which is not installed; "
                          f"install the extra: pip install 'benchbench[{extra}]'") from None


@dataclass
class ConfigExport:
    config_id: str
    label: str
    status: str
    settings: dict  # field -> value (str/int/float/bool), every RunConfig field the rows carry
    metrics: dict  # metric -> median over ok repeats (finite floats only)
    step_times_s: list[float]  # every measured step of every ok repeat, in order


def configs(df: pd.DataFrame) -> list[ConfigExport]:
    if df.empty:
        raise ExportError("the run has no rows: nothing to export")
    df = cost.with_cost(df)  # usd_per_mtoken where the rows carry the suite's price
    labels = compare.labels(df)
    metric_cols = [c for c in compare.available_metrics(df)
                   if c in df.columns and c not in FIELDS and c not in IDENTITY]
    out = []
    for cid, g in df.groupby("config_id", sort=False):
        ok = g[g["status"] == "ok"]
        first = g.iloc[0]
        settings = {f: _scalar(first[f]) for f in FIELDS if f in g.columns and _scalar(first[f]) is not None}
        # the config's value of each metric (analysis/value.py); MFU and cost follow from its throughput
        thr = values.throughput_column(df)
        every = {m: values.config_value(ok, m) if m in ok and len(ok) else math.nan for m in metric_cols}
        every.update({m: values.proportional(ok, m, thr, every.get(thr, math.nan))
                      for m in values.PROPORTIONAL if m in every})
        every.update({m: v for m, v in cost.config_costs(ok, thr, every.get(thr, math.nan)).items() if m in every})
        metrics = {m: float(v) for m, v in every.items() if pd.notna(v) and math.isfinite(v)}
        groups, kind = compare.samples(ok, compare.STEP_TIME) if len(ok) else ([], "")
        steps = [float(x) for x in np.concatenate(groups)] if groups and kind == "steps" else []
        out.append(ConfigExport(str(cid), labels[cid], compare.config_status(g), settings, metrics, steps))
    return out


def _scalar(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        v = v.item()
    return v if isinstance(v, (str, int, float, bool)) else str(v)


def safe_name(text: str) -> str:
    """A file-system-safe name from a config label."""
    keep = "".join(ch if ch.isalnum() or ch in "-_.=," else "_" for ch in text)
    return keep.strip("_")[:120] or "config"


def env_tags(env: dict) -> dict:
    keys = ("hostname", "gpu_name", "gpu_count", "driver_version", "cuda_version", "torch_version", "python",
            "git_commit")
    return {f"env.{k}": str(env[k]) for k in keys if env.get(k) is not None}


def default_path(run_dir: str | Path, fmt: Format) -> Path:
    return Path(run_dir) / fmt.default_output


@contextlib.contextmanager
def folder_beside(out: Path):
    """A temporary sibling of `out` to write a folder export into, holding a copy of what `out` held (the
    formats add to an existing export, as their own tools do). When the block ends without error it takes
    `out`'s place; on any error or signal it is removed and `out` is as it was: never a partial export."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    old = out.with_name(f".{out.name}.old{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if out.is_dir():
            shutil.copytree(out, tmp, symlinks=True)
        else:
            tmp.mkdir(parents=True)
        yield tmp
        if out.is_dir():  # two renames: a crash between them leaves the old export whole, named .NAME.old<pid>
            os.replace(out, old)
        os.replace(tmp, out)
    except OSError as e:  # name the folder the user knows, not the temporary one
        raise OSError(e.errno, e.strerror or str(e), str(out)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
