"""The gate against the history: a run against the last N runs of its series (same machine fingerprint,
same config), with the noise taken from those runs instead of one baseline's repeats.

Per rule (default: the throughput, no threshold) and config:
- the history side is the window's per-run values (each the median of its repeats): their median is
  the reference, their spread (robust CV) the noise: run-to-run drift that one baseline's repeats
  cannot show;
- the run side is the run's per-repeat values;
- the ratio run/history has a robust t interval (stats.ratio_interval); the run regresses when the
  interval excludes 1 and the change in the bad direction exceeds the floor: NOISE_FLOOR_FACTOR x the
  window's robust CV, never below MIN_NOISE_FLOOR nor below the rule's threshold when one is given;
- a config ok in the window's newest run and not ok now regresses; a config with fewer than
  MIN_HISTORY runs in the window is not judged ("too little history");
- a window whose runs sit in two modes (series_modes) has no one reference: "two modes: add repeats",
  not judged;
- when no config of any rule was judged, the result is inconclusive (exit 4), never a pass.

The tables have compare()'s columns (a = the history window, b = the run), so the gate's output and
markdown summary are the same as against a baseline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchbench.analysis import compare, series_modes
from benchbench.analysis.gate import GateError, GateResult
from benchbench.basics import stats
from benchbench.spec.rules import Rule

DEFAULT_WINDOW = 10
MIN_HISTORY = 3
TWO_MODES = "two modes: add repeats"


def default_rules(run_rec: dict, frame: pd.DataFrame) -> list[Rule]:
    """The throughput, judged by the history's noise alone: tokens_per_s where the run or its history has it."""
    have = {r["metric"] for r in run_rec["results"]} | set(frame["metric"])
    return [Rule("tokens_per_s" if "tokens_per_s" in have else "samples_per_s", 0.0, True)]


def check(run_rec: dict, frame: pd.DataFrame, rules: list[Rule] | None = None, window: int = DEFAULT_WINDOW,
          level: float = 0.05) -> GateResult:
    """`run_rec`: series.run_record(RUN); `frame`: history.results() (any machines; this one's are used)."""
    if window < 1:
        raise GateError(f"--window {window}: must be 1 or more")
    run = run_rec["run"]
    mine = frame[(frame["machine"] == run["machine"]) & (frame["run_key"] != run["run_key"])] if len(frame) else frame
    if mine.empty and len(frame) and (frame["machine"] == run["machine"]).any():
        raise GateError(f"the history holds no earlier run of this machine ({run['machine_label']}): its only run of "
                        "this machine is this run itself. Add earlier runs of this machine first: benchbench history "
                        "add RUN_DIR")
    if mine.empty:
        machines = sorted(set(frame["machine_label"])) if len(frame) else []
        raise GateError(f"the history holds no run of this machine ({run['machine_label']}); runs of other machines or "
                        f"software are not comparable" + (f" (it holds: {'; '.join(machines)})" if machines else "")
                        + (" (the same words, another fingerprint: GPU count, driver or CUDA differ)"
                           if run["machine_label"] in machines else "")
                        + ". Add runs of this machine first: benchbench history add RUN_DIR")
    rules = rules or default_rules(run_rec, mine)
    tables = {}
    for rule in rules:
        if rule.metric not in set(mine["metric"]):
            raise GateError(f"rule {rule}: the history holds no {rule.metric}; it holds: {', '.join(sorted(set(mine['metric'])))}")
        tables[str(rule) if rule.threshold else rule.metric] = _table(run_rec, mine[mine["metric"] == rule.metric], rule,
                                                                      window, level)
    return GateResult(rules=rules, tables=tables, notes=[f"against the last {window} runs of this machine in the history"],
                      inconclusive=nothing_judged(tables))


def nothing_judged(tables: dict) -> str | None:
    """Why the gate cannot pass: no config of any rule was judged (too little history, too few repeats, new
    configs), or None. A gate that judged nothing must not say PASS."""
    judged = sum(int(((t["test"] == "history") | (t["verdict"] == "status changed")).sum()) for t in tables.values())
    if judged:
        return None
    notes = sorted({n for t in tables.values() for n in t["note"] if n})
    return "nothing judged: " + ("; ".join(notes[:3]) or "no config to judge")


def _table(run_rec: dict, hist: pd.DataFrame, rule: Rule, window: int, level: float) -> pd.DataFrame:
    metric, out = rule.metric, []
    res = {r["config_id"]: r for r in run_rec["results"] if r["metric"] == metric}
    reps = {}
    for r in run_rec["repeats"]:
        if r["metric"] == metric:
            reps.setdefault(r["config_id"], []).append(r["value"])
    by_cfg = dict(tuple(hist.groupby("config_id", sort=False)))
    for c in run_rec["configs"]:
        cid = c["config_id"]
        h = by_cfg.get(cid)
        last = h.sort_values(["commit_time", "started_at"]).tail(window) if h is not None else None
        ok = last[last["status"] == "ok"] if last is not None else None
        mine = res.get(cid, {})
        rec = {"config_id": cid, "label": c["label"], "metric": metric,
               "status_a": None if last is None else last["status"].iloc[-1], "status_b": c["status"],
               "a_value": math.nan, "a_ci_low": math.nan, "a_ci_high": math.nan, "a_n": 0 if ok is None else len(ok),
               "b_value": mine.get("value", math.nan), "b_ci_low": mine.get("ci_low", math.nan),
               "b_ci_high": mine.get("ci_high", math.nan), "b_n": mine.get("repeats", 0), "ratio": None, "change": None,
               "ratio_ci_low": math.nan, "ratio_ci_high": math.nan, "floor": math.nan, "test": "", "samples": "runs",
               "verdict": "not judged", "worse": False, "note": ""}
        if last is None:
            rec["verdict"], rec["note"] = "only in B", "new: no run of this config in the history"
        elif rec["status_a"] == "ok" and c["status"] != "ok":
            rec.update(verdict="status changed", worse=True, note=f"ok -> {c['status']}")
        elif c["status"] != "ok":
            rec["note"] = f"{c['status']}: nothing to compare"
        elif ok is None or len(ok) < MIN_HISTORY:
            rec.update(verdict="too few repeats", note=f"too little history: {0 if ok is None else len(ok)} ok runs in the "
                                                       f"window; a verdict needs {MIN_HISTORY}")
        elif (modes := series_modes.detect([[v] for v in ok["value"].to_numpy(dtype=float)])) is not None:
            rec.update(verdict=TWO_MODES, note=f"the window's runs sit in two modes {modes.gap:.1%} apart "
                                               f"({modes.low_points} and {modes.high_points} runs): no reference to judge against")
        else:
            rec.update(_judge(ok["value"].to_numpy(dtype=float), np.asarray(reps.get(cid, []), dtype=float), rule, level))
        out.append(rec)
    t = pd.DataFrame(out)
    t.attrs.update(metric=metric, level=level, threshold=rule.threshold or None, higher_is_better=rule.higher_is_better)
    return t


def _judge(hist_values: np.ndarray, run_values: np.ndarray, rule: Rule, level: float) -> dict:
    a_value = float(np.median(hist_values))
    a_lo, a_hi = stats.interval(stats.hierarchical_bootstrap([hist_values[i:i + 1] for i in range(hist_values.size)]),
                                1 - level)
    out = {"a_value": a_value, "a_ci_low": a_lo, "a_ci_high": a_hi, "a_n": int(hist_values.size)}
    if run_values.size < compare.MIN_REPEATS:
        return {**out, "verdict": "too few repeats", "note": f"{run_values.size} ok repeats in the run; a verdict needs "
                                                             f"{compare.MIN_REPEATS}"}
    ratio = float(np.median(run_values)) / a_value if a_value else math.nan
    cv = stats.robust_cv(hist_values)
    floor = max(stats.MIN_NOISE_FLOOR, compare.NOISE_FLOOR_FACTOR * (cv if cv == cv else 0.0), rule.threshold or 0.0)
    if compare.is_deterministic(rule.metric):
        lo = hi = ratio
        moved = abs(ratio - 1) > floor
    else:
        _, lo, hi = stats.ratio_interval(hist_values, run_values, 1 - level)
        moved = (lo > 1 or hi < 1) and abs(ratio - 1) > floor
    better = (ratio > 1) == rule.higher_is_better
    out.update(ratio=ratio, change=ratio - 1, ratio_ci_low=lo, ratio_ci_high=hi, floor=floor, test="history")
    if moved:
        out.update(verdict="faster" if better else "slower", worse=not better)
    elif (hide := max(abs(lo - 1), abs(hi - 1))) <= floor:  # compare's words: same within the floor, or undecided
        out.update(verdict="same", note=f"within ±{floor:.1%}")
    else:
        out.update(verdict="undecided", note=f"a change up to {hide:.1%} could hide here; more runs in the history or "
                                             f"more repeats would settle it")
    return out
