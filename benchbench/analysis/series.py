"""From a run directory to the history's records, and from the history back to series.

A run's record per config holds what compare and gate compute (compare.samples/summarize): the value
is the median over ok repeats of each repeat's statistic, the interval comes from the two-level
bootstrap (stats.hierarchical_bootstrap), and each repeat's own value is kept for later statistics.
The series key is the machine fingerprint (GPU model and count, driver major, torch, CUDA, host):
runs of different machines or software are different series. Runs are ordered by the project's
commit time (env.json git_commit_time; the run's start for runs that did not record it).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from benchbench.analysis import compare
from benchbench.basics import stats
from benchbench.basics.errors import UserError
from benchbench.spec import catalogue
from benchbench.spec.config import FIELDS
from benchbench.store import baseline, results

FINGERPRINT = ("gpu_name", "gpu_count", "driver_major", "torch_version", "cuda_version", "host")


# SeriesError: bad input to the history (not a run, an unknown metric): the message says what to do
SeriesError = UserError


def fingerprint(env: dict) -> dict:
    d = env.get("driver_version")
    return {"gpu_name": env.get("gpu_name"), "gpu_count": int(env.get("gpu_count") or 0),
            "driver_major": str(d).split(".")[0] if d else None, "torch_version": env.get("torch_version"),
            "cuda_version": env.get("cuda_version"), "host": env.get("hostname") or env.get("host")}


def machine_key(fp: dict) -> tuple[str, str]:
    """(a short hash of the fingerprint, the same in words)."""
    key = hashlib.sha256(json.dumps(fp, sort_keys=True, default=str).encode()).hexdigest()[:10]
    gpu = f"{fp['gpu_count']} x {fp['gpu_name']}, driver {fp['driver_major']}" if fp["gpu_name"] else "CPU"
    cuda = f", CUDA {fp['cuda_version']}" if fp["cuda_version"] else ""
    return key, f"{fp['host']}: {gpu}, torch {fp['torch_version']}{cuda}"


def _finite(x) -> float | None:
    return float(x) if x is not None and isinstance(x, (int, float)) and math.isfinite(x) else None


def run_record(run_dir) -> dict:
    """The history's records of one run directory: {"run", "configs", "results", "repeats"}."""
    df, run, env = baseline.read_run(run_dir)
    if df.empty:
        raise SeriesError(f"{run_dir}: the run has no rows")
    raw = (Path(run_dir) / results.ROWS).read_bytes()
    fp = fingerprint(env)
    key, label = machine_key(fp)
    started = run.get("started_at") or run.get("finished_at")
    commit_time = env.get("git_commit_time")
    rec = {
        "run_key": hashlib.sha256(f"{run.get('run_id')}|{started}|{fp['host']}".encode()).hexdigest()[:16],
        "run_id": run.get("run_id"), "suite": run.get("suite"), "smoke": bool(run.get("smoke")), "started_at": started,
        "git_commit": env.get("git_commit") or "", "commit_time": commit_time or started,
        "commit_time_source": "git" if commit_time else "run start", "branch": env.get("git_branch") or "",
        "dirty": env.get("git_dirty"), "machine": key, "machine_label": label, **fp,
        "run_dir": str(run_dir), "rows_sha256": hashlib.sha256(raw).hexdigest(),
    }
    names = compare.labels(df)
    configs, summaries, repeats = [], [], []
    for cid, g in df.groupby("config_id", sort=False):
        first = g.iloc[0]
        settings = {f: first[f] for f in FIELDS if f in g and not _missing(first[f])}
        configs.append({"config_id": cid, "label": names.get(cid, cid), "status": compare.config_status(g),
                        "repeats": len(g), "repeats_ok": int((g["status"] == "ok").sum()),
                        "settings": json.dumps(settings, default=str, sort_keys=True)})
        for m in catalogue.history_names():  # the metrics the catalogue stores per commit
            if m not in g and m != compare.STEP_TIME:
                continue
            groups, kind = compare.samples(g, m)
            groups = [x for x in groups if len(x)]
            if not groups:
                continue
            v, lo, hi, n = compare.summarize(groups, m)
            if not math.isfinite(v):
                continue
            summaries.append({"config_id": cid, "metric": m, "value": v, "ci_low": _finite(lo), "ci_high": _finite(hi),
                              "repeats": n, "samples": kind})
            per = stats.per_repeat(groups, compare.location(m))
            ok = g[g["status"] == "ok"]
            idx = ok["repeat"].tolist() if len(ok) == len(per) else list(range(len(per)))
            repeats += [{"config_id": cid, "metric": m, "repeat_index": int(i), "value": float(x)}
                        for i, x in zip(idx, per)]
    return {"run": rec, "configs": configs, "results": summaries, "repeats": repeats}


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def default_metric(frame: pd.DataFrame) -> str:
    """The throughput the history holds: tokens_per_s where measured, else samples_per_s."""
    have = set(frame["metric"]) if len(frame) else set()
    return "tokens_per_s" if "tokens_per_s" in have else "samples_per_s"


def check_metric(frame: pd.DataFrame, metric: str):
    have = sorted(set(frame["metric"])) if len(frame) else []
    if metric not in have:
        raise SeriesError(f"metric {metric!r} is not in the history; it holds: {', '.join(have) or 'nothing yet'}")


def where(frame: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Rows whose config settings match every "key=value" (values compared as text)."""
    keep = pd.Series(True, index=frame.index)
    settings = frame["settings"].map(lambda s: json.loads(s) if isinstance(s, str) and s else {})
    for cond in conditions:
        if "=" not in cond:
            raise SeriesError(f"--where {cond!r}: use key=value, e.g. --where precision=bf16")
        k, v = (x.strip() for x in cond.split("=", 1))
        if k not in FIELDS:
            raise SeriesError(f"--where {cond!r}: {k!r} is not a setting; settings: {', '.join(FIELDS)}")
        keep &= settings.map(lambda s, k=k, v=v: str(s.get(k)) == v)
    return frame[keep]


def points(frame: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """One series (one machine, config, metric) as points, one per commit in commit order: the commit, its
    time and branch, the runs there, the pooled per-repeat values, value (their median) and the interval of the
    commit's value (a single run's stored interval; several runs: the bootstrap of the pooled repeats)."""
    if frame.empty:
        return pd.DataFrame()
    f = frame.assign(point=frame["git_commit"].where(frame["git_commit"] != "", frame["run_key"]))
    g = f.groupby("point", sort=False)
    pts = g.agg(git_commit=("git_commit", "first"), commit_time=("commit_time", "min"), branch=("branch", "last"),
                runs=("run_key", "size"), status=("status", "last"), value=("value", "median"),
                ci_low=("ci_low", "first"), ci_high=("ci_high", "first"))
    pts["run_keys"] = g["run_key"].agg(list)
    # each point's repeat values: one sort and split, not a filter per point (1,000s of points per series)
    point_of = dict(zip(f["run_key"], f["point"]))
    r = reps.assign(point=reps["run_key"].map(point_of)).dropna(subset=["point"]) if len(reps) else reps
    pooled = {}
    if len(r):
        r = r.sort_values("point", kind="stable")
        keys, starts = np.unique(r["point"].to_numpy(), return_index=True)
        for key, part in zip(keys, np.split(r["value"].to_numpy(dtype=float), starts[1:])):
            pooled[key] = part
    pts["repeats"] = [pooled.get(k, np.array([v])) for k, v in zip(pts.index, pts["value"])]
    for k in pts.index[pts["runs"] > 1]:  # several runs at one commit: value and interval from their pooled repeats
        v = pts.at[k, "repeats"]
        if v.size:
            pts.at[k, "value"] = float(np.median(v))
            pts.at[k, "ci_low"], pts.at[k, "ci_high"] = stats.interval(
                stats.hierarchical_bootstrap([v[i:i + 1] for i in range(v.size)]))
    return pts.sort_values("commit_time", kind="stable").reset_index(drop=True)


def series(frame: pd.DataFrame, reps: pd.DataFrame):
    """(machine, config_id, metric, label, machine_label, points) for every series in `frame` (history.results)."""
    rep_groups = dict(tuple(reps.groupby(["machine", "config_id", "metric"]))) if len(reps) else {}
    for (machine, cid, metric), g in frame.groupby(["machine", "config_id", "metric"], sort=True):
        ok = g[g["status"] == "ok"]
        if ok.empty:
            continue
        r = rep_groups.get((machine, cid, metric), pd.DataFrame(columns=["run_key", "value"]))
        yield machine, cid, metric, g["label"].iloc[-1], g["machine_label"].iloc[-1], points(ok, r[r["run_key"].isin(ok["run_key"])])


def changes(frame: pd.DataFrame, reps: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Every change point of every series of `metric` (changepoints.detect), newest first: config, label,
    machine, the commits before and after, the values of the segments either side, the ratio after/before
    with its interval, the floor it beat, and whether it is a regression in the metric's good direction."""
    from benchbench.analysis import changepoints

    up = compare.higher_is_better(metric)
    out = []
    f, r = frame[frame["metric"] == metric], reps[reps["metric"] == metric]
    for machine, cid, _, label, machine_label, pts in series(f, r):
        for c in changepoints.analyze(list(pts["repeats"])).changes:
            before, after = pts.iloc[c.index - 1], pts.iloc[c.index]
            worse = (c.ratio < 1) == up
            out.append({"config_id": cid, "label": label, "metric": metric, "machine": machine,
                        "machine_label": machine_label, "commit_before": before["git_commit"],
                        "commit_after": after["git_commit"], "commit_time": after["commit_time"],
                        "before": c.before, "after": c.after, "ratio": c.ratio, "change": c.change,
                        "ratio_ci_low": c.ratio_ci_low, "ratio_ci_high": c.ratio_ci_high, "floor": c.floor,
                        "commits_before": c.segment_before[1] - c.segment_before[0],
                        "commits_after": c.segment_after[1] - c.segment_after[0],
                        "verdict": "regression" if worse else "improvement", "worse": worse})
    cols = ["config_id", "label", "metric", "machine", "machine_label", "commit_before", "commit_after", "commit_time",
            "before", "after", "ratio", "change", "ratio_ci_low", "ratio_ci_high", "floor", "commits_before",
            "commits_after", "verdict", "worse"]
    df = pd.DataFrame(out, columns=cols)
    return df.sort_values("commit_time", ascending=False, kind="stable").reset_index(drop=True)


def shapes(frame: pd.DataFrame, reps: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Every series of `metric` that drifts or sits in two modes (changepoints.analyze): config, label,
    machine, what ('drift' or 'two modes'), the change over the drift's window (or the gap between the
    modes), the drift per commit, the commits it spans, whether it goes the metric's bad way."""
    from benchbench.analysis import changepoints

    up = compare.higher_is_better(metric)
    out = []
    f, r = frame[frame["metric"] == metric], reps[reps["metric"] == metric]
    for machine, cid, _, label, machine_label, pts in series(f, r):
        s = changepoints.analyze(list(pts["repeats"]))
        base = {"config_id": cid, "label": label, "metric": metric, "machine": machine, "machine_label": machine_label}
        if s.drift is not None:
            d = s.drift
            out.append({**base, "shape": "drift", "change": d.change, "per_commit": d.slope,
                        "per_commit_ci_low": d.slope_ci_low, "per_commit_ci_high": d.slope_ci_high, "floor": d.floor,
                        "commits": d.end - d.start, "commit_first": pts.iloc[d.start]["git_commit"],
                        "commit_last": pts.iloc[d.end - 1]["git_commit"], "commit_time": pts.iloc[d.end - 1]["commit_time"],
                        "worse": (d.change < 0) == up})
        if s.two_modes is not None:
            m = s.two_modes
            out.append({**base, "shape": "two modes", "change": m.gap, "commits": m.low_points + m.high_points,
                        "low": m.low, "high": m.high, "commit_time": pts["commit_time"].iloc[-1], "worse": False})
    cols = ["config_id", "label", "metric", "machine", "machine_label", "shape", "change", "per_commit",
            "per_commit_ci_low", "per_commit_ci_high", "floor", "commits", "commit_first", "commit_last", "commit_time",
            "low", "high", "worse"]
    return pd.DataFrame(out, columns=cols)


def commit_time(frame: pd.DataFrame, rev: str, git_time=None):
    """The commit time of REV: a stored commit it is a prefix of (4+ hex digits, unique), else git_time(rev)
    (the project's `git show`), else SeriesError."""
    hits = frame.loc[frame["git_commit"].str.startswith(rev.lower()), ["git_commit", "commit_time"]] \
        if len(rev) >= 4 and len(frame) else frame.iloc[0:0]
    commits = hits.drop_duplicates("git_commit")
    if len(commits) == 1:
        return commits["commit_time"].iloc[0]
    if len(commits) > 1:
        raise SeriesError(f"revision {rev!r} is ambiguous in the history: {', '.join(commits['git_commit'].str[:12])}")
    t = git_time(rev) if git_time else None
    if t is None:
        raise SeriesError(f"revision {rev!r}: no such commit in the history nor in the git repository here")
    return pd.Timestamp(t).tz_convert("UTC") if pd.Timestamp(t).tzinfo else pd.Timestamp(t, tz="UTC")
