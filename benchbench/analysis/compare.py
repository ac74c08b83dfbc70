"""Two runs joined on config_id: per config both values with confidence intervals, the ratio, a verdict.

The repeat (one worker process) is the unit: steps inside a process are not independent samples.
A config's value is the median over its ok repeats of each repeat's statistic (throughput and step
time: from its per-step samples, as `tokens_per_step / step_time`; any other column: the repeat's
value). A value's interval comes from a two-level bootstrap: repeats drawn with replacement, then
steps within each drawn repeat (stats.hierarchical_bootstrap). The ratio, its interval and its
p-value come from evidence.test: medians of the repeats' log values, a spread shrunk toward the
spread of all configs of the comparison, and a between-run component (two runs drift apart by more
than their repeats show). A change is `faster`/`slower` only when

- both sides have at least MIN_REPEATS ok repeats (else `too few repeats`: no guess), and
- its p-value, Holm-adjusted over every config of the table (family.adjust; the gate adjusts over
  all its rules together), is below the level, and
- the change exceeds the floor: the threshold when one is given, else MIN_NOISE_FLOOR.

Otherwise it is `same` (the equivalence test holds the change within ±x%, x below the floor),
`undecided` (a change up to y% could hide; N more repeats would settle it) or `two modes` (the
repeats land in two states: add repeats); the note says which numbers.

Deterministic metrics (FLOPs, parameter/gradient/optimizer bytes, the CUDA allocator's peaks) are
judged by the threshold alone (default 1% when none is given): they do not vary run to run.

"faster"/"slower" are in the metric's good direction: higher is better for throughput-like
metrics (`*_per_s`, `*_per_j`, `mfu`, `hfu`), lower for times, bytes and energy. For memory,
"slower" reads "hungrier".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchbench.analysis import evidence, family
from benchbench.analysis import summary as tables
from benchbench.analysis import value as values
from benchbench.analysis.value import PER_STEP, STEP_STATS, location, samples  # noqa: F401  (compare.samples)
from benchbench.basics import stats
from benchbench.basics.errors import UserError
from benchbench.basics.stats import MIN_NOISE_FLOOR
from benchbench.spec import catalogue
from benchbench.spec.metrics import (  # noqa: F401
    DETERMINISTIC,
    DETERMINISTIC_DEFAULT_THRESHOLD,
    STEP_TIME,
    higher_is_better,
    is_deterministic,
)

VERDICTS = ("faster", "slower", "same", "undecided", "two modes", "too few repeats", "only in A", "only in B", "status changed",
            "inconclusive: too noisy")
NO_VERDICT = ("same", "undecided", "two modes")  # both ran ok and no faster/slower was found
MIN_REPEATS = 3           # ok repeats each side needs before a timing verdict
NOISE_FLOOR_FACTOR = 3    # (history's floor) x the between-repeat robust CV


# CompareError: bad input to a comparison (unknown metric, empty run): the message says what to do
CompareError = UserError


def available_metrics(df: pd.DataFrame) -> list[str]:
    """Numeric columns with a value in some ok row, plus step_time_s: what --metric accepts."""
    ok = df[df["status"] == "ok"] if "status" in df else df
    skip = {"schema_version", "repeat", "exit_code", "seed", "world_size", "warmup_steps", "measured_steps",
            "repeats", "timeout_s", "lr", "grad_accum", "checkpoint_k", "batch_size", "seq_len", "image_size"}
    cols = [c for c in ok.columns if c not in skip and pd.api.types.is_numeric_dtype(ok[c]) and ok[c].notna().any()
            and not pd.api.types.is_bool_dtype(ok[c])]
    steps = {STEP_TIME, *(f"{STEP_TIME}_{k}" for k in STEP_STATS)} if "step_times_s" in ok else set()
    return sorted(set(cols) | steps)


def check_metric(df: pd.DataFrame, metric: str, name: str = "run"):
    ok = df[df["status"] == "ok"] if "status" in df else df
    if ok.empty:  # nothing ran: the verdicts come from the statuses alone
        return
    if "step_times_s" in ok and (metric == STEP_TIME or metric.removeprefix(STEP_TIME + "_") in STEP_STATS):
        return
    if metric not in ok.columns or not ok[metric].notna().any():
        avail = available_metrics(df)
        hint = " (a CPU run measures peak_rss_bytes, not the CUDA allocator's peaks)" if metric.startswith("peak_") else ""
        raise CompareError(f"{name}: metric {metric!r} has no value in any ok row{hint}; "
                           f"metrics with values: {', '.join(avail)}")


def summarize(groups: list[np.ndarray], metric: str, level: float = 0.05) -> tuple[float, float, float, int]:
    """(value, ci_low, ci_high, repeats): the median over repeats of each repeat's statistic (its median
    step; step_time_s_<stat>: that statistic; a per-repeat metric: its value), and the interval of
    the two-level bootstrap (repeats, then steps within each). Deterministic metrics: the largest
    (peaks) or the median value and the range."""
    groups = [g for g in groups if len(g)]
    if not groups:
        return math.nan, math.nan, math.nan, 0
    value = values.of_groups(groups, metric)  # the value every view shows (analysis/value.py)
    if is_deterministic(metric):
        flat = np.concatenate(groups)
        return value, float(np.min(flat)), float(np.max(flat)), len(groups)
    stat = location(metric)
    lo, hi = stats.interval(stats.hierarchical_bootstrap(groups, stat), 1 - level)
    return value, lo, hi, len(groups)


def labels(df: pd.DataFrame) -> dict[str, str]:
    """config_id -> its varying axes as "axis=value, axis=value" (the model when nothing varies)."""
    if df.empty:
        return {}
    axes = tables.varying_axes(df)
    per_config = df.drop_duplicates("config_id").set_index("config_id")
    out = {}
    for cid, r in per_config.iterrows():
        if axes:
            out[cid] = ", ".join(f"{a}={r[a]}" for a in axes)
        else:
            out[cid] = " ".join(str(r[c]) for c in ("model", "model_size") if c in r and pd.notna(r[c])) or cid
    return out


def config_status(g: pd.DataFrame | None) -> str | None:
    return None if g is None or g.empty else tables.worst_status(g["status"])


def compare(a: pd.DataFrame, b: pd.DataFrame, metric: str = "tokens_per_s", *, level: float = 0.05,
            threshold: float | None = None, higher_better: bool | None = None,
            between_run_sd: float | None = None, prior: evidence.Prior | None = None) -> pd.DataFrame:
    """One row per config_id in either run: statuses, both values with 95% CIs, ratio b/a, p-value, verdict.

    `threshold` is a relative change (0.05 = 5%) a difference must exceed to be a verdict;
    `higher_better` overrides the metric's known direction. Extra columns: `a_n`, `b_n` (sample
    ok repeats), `samples` (steps|repeats), `ratio_ci_low`/`ratio_ci_high`, `floor` (the noise floor or threshold
    used), `test` (t|threshold|none), `change` (ratio - 1), `worse` (True when b is worse than a beyond the floor,
    or a was ok and b is not), `note`, and evidence.test's `log_change`, `se`, `dof`, `p_value`, `p_adjusted`,
    `spread_sd`, `between_run_sd`, `modes`. `between_run_sd` (log scale, ~relative): how far two runs of one
    config drift apart beyond their repeats (None: evidence.DEFAULT_BETWEEN_RUN_SD; 0 for configs of one
    run); `prior`: the comparison's pooled spread, when the caller judges more configs than these rows."""
    if not 0 < level < 1:
        raise CompareError(f"level must be between 0 and 1, got {level}")
    if threshold is not None and threshold < 0:
        raise CompareError(f"threshold is a magnitude (0.05 = 5%), got {threshold}")
    for df, name in ((a, "A"), (b, "B")):
        if not df.empty and ("config_id" not in df or "status" not in df):
            raise CompareError(f"run {name}: not benchbench rows (no config_id/status columns)")
        if not df.empty:
            check_metric(df, metric, f"run {name}")
    up = higher_is_better(metric) if higher_better is None else higher_better
    both = pd.concat([a, b], ignore_index=True) if not (a.empty and b.empty) else pd.DataFrame()
    names = labels(both)
    ga = dict(tuple(a.groupby("config_id", sort=False))) if not a.empty else {}
    gb = dict(tuple(b.groupby("config_id", sort=False))) if not b.empty else {}
    out = []
    if prior is None:
        sides = []
        for cid in ga.keys() & gb.keys():
            for g in (ga[cid], gb[cid]):
                sides.append(evidence.logs(stats.per_repeat(samples(g, metric)[0], location(metric))))
        prior = evidence.prior(sides, between_run_sd)
    for cid in dict.fromkeys([*ga, *gb]):
        ra, rb = ga.get(cid), gb.get(cid)
        rec = {"config_id": cid, "label": names.get(cid, cid), "metric": metric,
               "status_a": config_status(ra), "status_b": config_status(rb)}
        sa, kind = samples(ra, metric) if ra is not None else ([], "")
        sb, kind_b = samples(rb, metric) if rb is not None else ([], "")
        for side, groups in (("a", sa), ("b", sb)):
            v, lo, hi, n = summarize(groups, metric, level)
            rec.update({f"{side}_value": v, f"{side}_ci_low": lo, f"{side}_ci_high": hi, f"{side}_n": n})
        rec.update(samples=kind or kind_b, ratio=None, change=None, ratio_ci_low=math.nan, ratio_ci_high=math.nan,
                   floor=math.nan, test="", note="", worse=False)
        if ra is None:
            rec["verdict"] = "only in B"
        elif rb is None:
            rec["verdict"] = "only in A"
            rec["worse"] = rec["status_a"] == "ok"
        elif rec["status_a"] != rec["status_b"]:
            rec["verdict"] = "status changed"
            rec["worse"] = rec["status_a"] == "ok"
            rec["note"] = f"{rec['status_a']} -> {rec['status_b']}"
        elif rec["status_a"] != "ok":
            rec["verdict"] = "same"
            rec["note"] = f"both {rec['status_a']}: nothing to compare"
        else:
            rec.update(_judge(sa, sb, rec, metric, level, threshold, up, prior))
        out.append(rec)
    cols = ["config_id", "label", "metric", "status_a", "status_b", "a_value", "a_ci_low", "a_ci_high", "a_n",
            "b_value", "b_ci_low", "b_ci_high", "b_n", "ratio", "ratio_ci_low", "ratio_ci_high", "change", "floor", "test",
            "samples", "verdict", "worse", "note", "log_change", "se", "dof", "p_value", "p_adjusted", "spread_sd",
            "between_run_sd", "modes"]
    table = pd.DataFrame(out, columns=cols)
    for col in ("ratio", "change", "status_a", "status_b"):  # None, not NaN, where a run lacks the config or a value
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    table.attrs.update(metric=metric, level=level, threshold=threshold, higher_is_better=up, prior=prior)
    family.adjust([table], level)
    return table


def _judge(sa, sb, rec, metric, level, threshold, up, prior) -> dict:
    a_val, b_val = rec["a_value"], rec["b_value"]
    if math.isnan(a_val) or math.isnan(b_val) or a_val == 0:
        return {"verdict": "same", "note": f"no {metric} to compare"}
    ratio = b_val / a_val
    change = ratio - 1
    res = {"ratio": ratio, "change": change}
    if is_deterministic(metric):
        limit = DETERMINISTIC_DEFAULT_THRESHOLD if threshold is None else threshold
        res.update(test="threshold", floor=limit)
        if abs(change) <= limit:
            return {**res, "verdict": "same", "note": f"within the ±{limit:.1%} threshold; deterministic: threshold only"}
        better = (change > 0) == up
        return {**res, "verdict": "faster" if better else "slower", "worse": not better,
                "note": "deterministic: threshold only"}
    na, nb = len([g for g in sa if len(g)]), len([g for g in sb if len(g)])
    if na < MIN_REPEATS or nb < MIN_REPEATS:
        return {**res, "verdict": "too few repeats", "test": "none",
                "note": f"{na} and {nb} ok repeats; a verdict needs {MIN_REPEATS} on each side "
                        f"({max(0, MIN_REPEATS - min(na, nb))} more)"}
    stat = location(metric)
    ev = evidence.test(stats.per_repeat(sa, stat), stats.per_repeat(sb, stat), prior, level, up)
    res.update(ev, floor=MIN_NOISE_FLOOR if threshold is None else threshold, test="t", verdict="",
               ratio=math.exp(ev["log_change"]), change=math.expm1(ev["log_change"]))  # what the test judged
    return res




def config_summary(df: pd.DataFrame) -> list[dict]:
    """Per config: label, status, and for each metric with values its median, 95% CI and n."""
    out = []
    names = labels(df)
    for cid, g in df.groupby("config_id", sort=False):
        rec = {"config_id": cid, "label": names[cid], "status": config_status(g),
               "repeats_ok": int((g["status"] == "ok").sum()), "repeats": len(g)}
        for m in (m.name for m in catalogue.shown_in("baseline")):
            groups, kind = samples(g, m)
            if groups and sum(len(x) for x in groups):
                v, lo, hi, n = summarize(groups, m)
                rec[m] = {"value": v, "ci_low": lo, "ci_high": hi, "n": n, "samples": kind}
        out.append(rec)
    return out
