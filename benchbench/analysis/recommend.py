"""Which config to use, from measured rows only: rank, Pareto front, and why the winner wins.

- Candidates are the configs of the rows; a config qualifies when it ran `ok` and meets every
  constraint (CONSTRAINTS, in the order they are applied). The memory budget rules a config out by
  its measured peak, or by the memory model's `predicted_peak_bytes` when it has no measured one;
  an unmeasured config is never ranked.
- Ranking follows the objective (OBJECTIVES), with the project's statistics, and ranks only what
  the repeats can separate. Every pair of configs with at least compare.MIN_REPEATS ok repeats gets
  evidence.test's p-value (spread pooled over the run's configs; configs of one run share its
  drift, so no between-run component), and Holm adjusts them over all pairs. Walking from the best
  value down, a config not separated from the leader of the current rank (adjusted p >= level, or a
  change within the 1% floor, or two modes) shares that rank; otherwise it leads the next rank.
  Configs with fewer repeats are listed unranked (rank 0) with the repeats that would let them in.
- The pick comes only from separated configs: the rank-1 config with the least peak memory among
  those shown `same` as the leader (equivalence at the floor). When a rank-1 config is merely
  undecided against the leader, or an unranked config measured better than the pick, there is no
  pick yet (`pick` None, `no_pick` says why and what would settle it).
- The Pareto front: qualified configs that no other qualified config beats on both the objective
  (by rank: within noise is not better) and peak memory.
- The explanation compares the pick with the suite's baseline config and, for each setting in
  which they differ, the baseline with the config that differs from it in only that setting
  (with the pick's value), when that config was measured: what that setting alone bought.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from benchbench.analysis import compare, cost, evidence, family
from benchbench.analysis import summary as tables
from benchbench.analysis import value as values
from benchbench.basics import stats
from benchbench.basics.errors import UserError
from benchbench.basics.units import GIB
from benchbench.spec.config import FIELDS, NOT_IN_ID

# objective -> its fallback for models without tokens
OBJECTIVES = {"tokens_per_s": "samples_per_s", "tokens_per_j": "samples_per_j", "usd_per_mtoken": "usd_per_msample"}
CONSTRAINTS = ("status ok", "gpus", "numerics", "memory budget", "objective measured")
# verdicts that do not separate two configs: they share a rank (a tie), neither is ranked above the other
UNSEPARATED = ("same within noise", "too few repeats")


# RecommendError: nothing qualifies or the input cannot be used; the message names the constraint or input
RecommendError = UserError


@dataclass
class Recommendation:
    objective: str  # the column ranked (tokens_per_s, or its fallback)
    higher_is_better: bool
    memory_column: str  # peak_allocated_bytes, peak_rss_bytes
    ranked: pd.DataFrame  # qualified configs: config_id, label, rank, tie, versus_above, value, ci_low/high, n,
    #                       peak_memory_bytes, on_front, cost columns
    excluded: pd.DataFrame  # config_id, label, constraint, detail
    pick: str | None  # None: no pick is possible yet (no_pick says why)
    baseline_id: str | None
    explanation: list[dict] = field(default_factory=list)  # setting, baseline_value, pick_value, config_id, verdict, ratio
    constraints: dict = field(default_factory=dict)  # the constraints given: memory_budget_gib, gpus, require_numerics
    no_pick: str = ""  # why no pick is possible yet, and what would settle it

    def to_dict(self) -> dict:
        def recs(df):
            return [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
        return {"objective": self.objective, "higher_is_better": self.higher_is_better,
                "memory_column": self.memory_column, "pick": self.pick, "no_pick": self.no_pick,
                "baseline_id": self.baseline_id,
                "ranked": recs(self.ranked), "excluded": recs(self.excluded),
                "explanation": [{k: _plain(v) for k, v in e.items()} for e in self.explanation],
                "constraints": self.constraints}


def _plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return _plain(v.item())
    return v


def objective_column(df: pd.DataFrame, objective: str) -> str:
    if objective not in OBJECTIVES:
        raise RecommendError(f"objective {objective!r} is not known; allowed: {', '.join(OBJECTIVES)}")
    ok = df[df["status"] == "ok"] if "status" in df else df
    if objective in ok and pd.to_numeric(ok[objective], errors="coerce").notna().any():
        return objective
    fallback = OBJECTIVES[objective]
    if fallback in ok and pd.to_numeric(ok[fallback], errors="coerce").notna().any():
        return fallback
    hint = {"tokens_per_j": " (energy is measured by NVML on a GPU)",
            "usd_per_mtoken": " (give a price: --price USD_PER_GPU_HOUR or the suite's price_per_gpu_hour)"}
    raise RecommendError(f"no ok row has {objective} or {fallback}{hint.get(objective, '')}")


def _memory(ok: pd.DataFrame) -> str:
    if "peak_allocated_bytes" in ok and ok["peak_allocated_bytes"].notna().any():
        return "peak_allocated_bytes"
    return "peak_rss_bytes"


def _same_id(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(config_id="x")  # compare() joins on config_id: two configs under one id


def verdict(a_rows: pd.DataFrame, b_rows: pd.DataFrame, metric: str) -> tuple[str, float | None]:
    """compare()'s verdict and ratio (b/a) of config b against config a."""
    t = compare.compare(_same_id(a_rows), _same_id(b_rows), metric, between_run_sd=_drift(a_rows, b_rows))
    r = t.iloc[0]
    return str(r["verdict"]), (None if r["ratio"] is None else float(r["ratio"]))


def recommend(df: pd.DataFrame, objective: str = "tokens_per_s", *, baseline_id: str | None = None,
              memory_budget_bytes: float | None = None, gpus: int | None = None,
              require_numerics: bool = False, price_per_gpu_hour: float | None = None,
              price_per_kwh: float | None = None) -> Recommendation:
    if df.empty or "config_id" not in df or "status" not in df:
        raise RecommendError("no rows to recommend from (an empty or unfinished run)")
    if gpus is not None and gpus < 1:
        raise RecommendError(f"--gpus must be >= 1, got {gpus}")
    if memory_budget_bytes is not None and memory_budget_bytes <= 0:
        raise RecommendError(f"--memory-budget must be > 0 GiB, got {memory_budget_bytes / GIB:g}")
    try:
        df = cost.with_cost(df, price_per_gpu_hour, price_per_kwh)
    except cost.CostError as e:
        raise RecommendError(str(e)) from None
    metric = objective_column(df, objective)
    up = compare.higher_is_better(metric)
    mem = _memory(df[df["status"] == "ok"])
    names = compare.labels(df)
    groups = dict(tuple(df.groupby("config_id", sort=False)))

    cands, excluded, last_rule = [], [], None
    for cid, g in groups.items():
        ok = g[g["status"] == "ok"]
        rule, detail = _excluded_by(g, ok, metric, mem, memory_budget_bytes, gpus, require_numerics)
        if rule:
            excluded.append({"config_id": cid, "label": names[cid], "constraint": rule, "detail": detail})
            continue
        groups_, _ = compare.samples(ok, metric)
        value, lo, hi, n = compare.summarize(groups_, metric)
        peak = ok[mem].max() if mem in ok and ok[mem].notna().any() else math.nan
        thr = values.throughput_column(df)  # cost follows from the config's throughput value (analysis/value.py)
        costs = cost.config_costs(ok, thr, values.config_value(ok, thr), price_per_gpu_hour)
        value = costs.get(metric, value)
        cands.append({"config_id": cid, "label": names[cid], "value": value, "ci_low": lo, "ci_high": hi, "n": n,
                      "peak_memory_bytes": float(peak), **costs})
    excl = pd.DataFrame(excluded, columns=["config_id", "label", "constraint", "detail"])
    if not cands:
        order = {c: i for i, c in enumerate(CONSTRAINTS)}
        last_rule = max(excl["constraint"], key=order.get)
        raise RecommendError(f"no config qualifies: the last candidates were ruled out by {last_rule} "
                             f"({'; '.join(f'{r.label}: {r.detail}' for r in excl.itertuples() if r.constraint == last_rule)})")

    ranked = pd.DataFrame(cands).sort_values("value", ascending=not up, kind="stable").reset_index(drop=True)
    ranked, pick, no_pick = rank(ranked, groups, metric, up)
    ranked["on_front"] = _front(ranked)
    base = baseline_id if baseline_id in groups else None
    expl = explain(df, groups, pick, base, metric) if base and pick else []
    given = {"memory_budget_gib": None if memory_budget_bytes is None else memory_budget_bytes / GIB, "gpus": gpus,
             "require_numerics": require_numerics or None}
    return Recommendation(metric, up, mem, ranked, excl, pick, base, expl, {k: v for k, v in given.items() if v},
                          no_pick)


def _drift(*frames) -> float | None:
    """0 for configs of one run (they share its drift), else compare's default between-run component."""
    ids = set().union(*(set(f["run_id"].dropna()) for f in frames if "run_id" in f))
    return 0.0 if len(ids) <= 1 else None


def rank(ranked: pd.DataFrame, groups: dict, metric: str, up: bool, level: float = 0.05):
    """(ranked with rank/tie/versus_above, pick or None, why no pick): all-pairs Holm (module docstring)."""
    stat = compare.location(metric)
    values = {cid: stats.per_repeat(compare.samples(groups[cid][groups[cid]["status"] == "ok"], metric)[0], stat)
              for cid in ranked["config_id"]}
    enough = [c for c in ranked["config_id"] if values[c].size >= compare.MIN_REPEATS]
    pri = evidence.prior([evidence.logs(values[c]) for c in enough], _drift(*(groups[c] for c in enough)))
    pairs = {}
    for i, a in enumerate(enough):
        for b in enough[i + 1:]:
            r = evidence.test(values[a], values[b], pri, level, up)
            pairs[a, b] = {**r, "floor": stats.MIN_NOISE_FLOOR, "a_n": values[a].size, "b_n": values[b].size}
    adj = dict(zip(pairs, family.holm([r["p_value"] for r in pairs.values()])))
    ranks, versus, leader, n = {}, {}, None, 0
    for cid in enough:
        res = evidence.decide(pairs[leader, cid], adj[leader, cid], level, up, len(pairs)) if leader else None
        if res is None or res["verdict"] in ("faster", "slower"):
            leader, n = cid, n + 1
        ranks[cid] = n
        versus[cid] = "" if res is None else res["verdict"] + (f" ({res['note']})" if res["note"] else "")
    for cid in ranked["config_id"]:
        if cid not in ranks:
            k = values[cid].size
            ranks[cid] = 0
            versus[cid] = (f"unranked: {k} ok repeat{'s' if k != 1 else ''}; "
                           f"{compare.MIN_REPEATS - k} more would let the repeats separate it")
    ranked["rank"] = ranked["config_id"].map(ranks)
    ranked["versus_above"] = ranked["config_id"].map(versus)  # against the leader of its rank, or of the rank above
    ranked["tie"] = (ranked["rank"] > 0) & (ranked.groupby("rank")["rank"].transform("size") > 1)
    if len(ranked) == 1:
        return ranked, str(ranked["config_id"].iloc[0]), ""
    if not enough:
        return ranked, None, (f"no pick is possible yet: no config has {compare.MIN_REPEATS} ok repeats "
                              "(run with more repeats: each config's line says how many)")
    top = ranked[ranked["rank"] == 1]
    lead = str(top["config_id"].iloc[0])
    open_ = [r.label for r in top.itertuples() if r.config_id != lead and not r.versus_above.startswith("same")]
    if open_:
        return ranked, None, (f"no pick is possible yet: {', '.join(open_)} cannot be separated from "
                              f"{top['label'].iloc[0]} (see their lines for the repeats that would settle it)")
    pick = str(top.sort_values(["peak_memory_bytes", "value"], ascending=[True, not up], na_position="last",
                               kind="stable")["config_id"].iloc[0])
    pv = float(ranked.set_index("config_id").at[pick, "value"])
    better = [r.label for r in ranked.itertuples() if r.rank == 0 and (r.value > pv if up else r.value < pv)]
    if better:
        return ranked, None, (f"no pick is possible yet: {', '.join(better)} measured better than the best ranked "
                              f"config but with too few repeats to rank")
    return ranked, pick, ""


def _excluded_by(g, ok, metric, mem, budget, gpus, require_numerics) -> tuple[str | None, str]:
    if ok.empty:
        reason = g["reason"].dropna().iloc[0] if "reason" in g and g["reason"].notna().any() else ""
        return "status ok", f"{tables.worst_status(g['status'])}{': ' + str(reason) if reason else ''}"
    ws = int(ok["world_size"].iloc[0]) if "world_size" in ok and pd.notna(ok["world_size"].iloc[0]) else 1
    if gpus is not None and ws > gpus:
        return "gpus", f"world_size {ws} > {gpus}"
    if require_numerics and tables.numerics_verdict(g) != "ok":
        return "numerics", f"numerics {tables.numerics_verdict(g) or 'not checked'}"
    if budget is not None:
        peak, kind = math.nan, "measured"
        if mem in ok and ok[mem].notna().any():
            peak = float(ok[mem].max())
        elif "predicted_peak_bytes" in ok and ok["predicted_peak_bytes"].notna().any():
            peak, kind = float(ok["predicted_peak_bytes"].max()), "predicted"
        if peak > budget:
            return "memory budget", f"{kind} peak {peak / GIB:.2f} GiB > {budget / GIB:g} GiB"
    if metric not in ok or not pd.to_numeric(ok[metric], errors="coerce").notna().any():
        return "objective measured", f"no {metric}"
    return None, ""


def _front(ranked: pd.DataFrame) -> list[bool]:
    """On the Pareto front of (objective, peak memory): no other config at least as good on both and
    better on one. The objective is compared by rank, so a tie is not "better"; a config without a
    memory value is judged on the objective alone."""
    vals = list(zip(ranked["rank"].astype(float).replace(0.0, math.inf), ranked["peak_memory_bytes"]))  # 0: unranked
    sign = -1  # rank 1 is best
    out = []
    for i, (v, m) in enumerate(vals):
        dominated = False
        for j, (v2, m2) in enumerate(vals):
            if i == j:
                continue
            m_le = math.isnan(m) or (not math.isnan(m2) and m2 <= m)
            m_lt = not math.isnan(m2) and (math.isnan(m) or m2 < m)
            if sign * v2 >= sign * v and m_le and (sign * v2 > sign * v or m_lt):
                dominated = True
                break
        out.append(not dominated and v != math.inf)
    return out


def _settings(df: pd.DataFrame) -> dict[str, dict[str, str]]:
    """config_id -> {field: value as text} for the fields that identify configs."""
    cols = [f for f in FIELDS if f in df.columns and f not in NOT_IN_ID]
    per = df.drop_duplicates("config_id").set_index("config_id")
    return {cid: {f: str(per.at[cid, f]) for f in cols} for cid in per.index}


def explain(df: pd.DataFrame, groups: dict, pick: str, base: str, metric: str) -> list[dict]:
    """The pick against the baseline, then each differing setting alone (when its config was measured)."""
    sets = _settings(df)
    diff = [f for f in sets[pick] if sets[pick][f] != sets[base][f]]
    out = []
    if pick != base:
        v, ratio = verdict(groups[base], groups[pick], metric)
        out.append({"setting": "all", "baseline_value": "", "pick_value": "", "config_id": pick,
                    "verdict": v, "ratio": ratio})
    for f in diff:
        want = {**sets[base], f: sets[pick][f]}
        match = next((cid for cid, s in sets.items() if s == want), None)
        rec = {"setting": f, "baseline_value": sets[base][f], "pick_value": sets[pick][f], "config_id": match,
               "verdict": "not measured", "ratio": None}
        if match is not None and (groups[match]["status"] == "ok").any():
            rec["verdict"], rec["ratio"] = verdict(groups[base], groups[match], metric)
        elif match is not None:
            rec["verdict"] = f"did not run ok ({tables.worst_status(groups[match]['status'])})"
        out.append(rec)
    return out
