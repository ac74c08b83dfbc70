"""Why a config's step time changed between two runs, from their profiled rows.

The measured change is the difference of the median step times (each repeat's median step). It is
decomposed into parts, each in seconds per step and as a share of the change:

- device time per category (matmul, attention, norm/elementwise, ...: the profiler's shares of the
  device time of the profiled steps), and below it per kernel, matched by normalized name
  (analysis/kernels.py; kernels new in B and vanished from A listed);
- host: the GPU idle between kernels (the profile's idle share of the step, at most the step minus the
  device time), classed launch-bound
  (no host syncs in a step) or sync-bound (`host_syncs_per_step` > 0);
- communication: collective time hidden behind compute (the trace's collectives overlapped by
  compute kernels; rank 0's trace) counts against the step; beside it, every rank's exposed and
  overlapped collective time (each rank's own profile, the rows' *_per_rank columns);
- the host's Python functions whose py-spy time per step moved most, where `--pyspy` ran
  (analysis/explain_pyspy.py), beside the parts;
- `unexplained`: the rest, never hidden (the profiled window runs after the timed one, and
  concurrent kernels overlap: the parts need not add up exactly).

Each share's spread is the range of the part over every pairing of an A repeat with a B repeat, over
the measured change.
Memory (allocator peak and the part of it that grew) is reported beside, not as a share of time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchbench.analysis import explain_pyspy
from benchbench.analysis import kernels as kmatch
from benchbench.analysis.explain_trace import CATEGORIES, has_profile, repeat_profile
from benchbench.basics.errors import UserError

CATEGORY_WORDS = {"norm_elementwise": "elementwise", "matmul": "matmul", "attention": "attention",
                  "memcpy": "copy/cast", "optimizer": "optimizer", "communication": "collective", "other": "other"}
MEMORY_PARTS = ("params_bytes", "grads_bytes", "optimizer_state_bytes", "activations_workspace_bytes")
HOST_BOUND_BUSY = 0.7  # below this GPU busy share of a step, the host (not the device) sets the pace
MAX_TRACED = 20        # leads(): beyond this many judged configs, the traces are not read (a line each must stay quick)
SAME = 0.001           # a change of step time below 0.1%: nothing to explain
LEAD_SHARE = 0.5       # a few kernel changes lead the explanation when they explain at least this much


ExplainError = UserError  # bad input for an explanation: one line for the user


@dataclass
class Part:
    name: str              # "device: matmul", "host: GPU idle", "communication: hidden", "unexplained"
    delta_s: float         # seconds per step, B - A
    share: float           # of the measured change
    share_low: float       # range over repeat pairings
    share_high: float


@dataclass
class Explanation:
    config_id: str
    label: str
    step_a_s: float
    step_b_s: float
    repeats: tuple[int, int]
    parts: list[Part] = field(default_factory=list)
    kernels: dict = field(default_factory=dict)      # matched movers, new, vanished, hidden; kernels_from
    categories: dict = field(default_factory=dict)   # category -> (a_s, b_s) per step
    host: dict = field(default_factory=dict)
    communication: dict = field(default_factory=dict)
    ranks: dict = field(default_factory=dict)        # side -> [(exposed_s, overlapped_s) per rank]
    python: dict = field(default_factory=dict)       # py-spy: the functions that moved most (explain_pyspy)
    memory: dict = field(default_factory=dict)
    lead: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def delta_s(self) -> float:
        return self.step_b_s - self.step_a_s

    @property
    def delta_frac(self) -> float:
        return self.delta_s / self.step_a_s if self.step_a_s else float("nan")

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)


def _med(values) -> float | None:
    v = [x for x in values if x is not None and x == x]
    return float(np.median(v)) if v else None


def _components(p: dict) -> dict[str, float | None]:
    """One repeat's time parts (seconds per step), named as the Parts are."""
    out = {f"device: {c}": p["cats"][c] for c in CATEGORIES}
    out["host: GPU idle"] = p["idle_s"]
    hidden = None if p["comm_s"] is None else p["comm_s"] - p["comm_exposed_s"]
    out["communication: hidden behind compute"] = None if hidden is None else -hidden
    return out


def _parts(pa: list[dict], pb: list[dict]) -> list[Part]:
    ca, cb = [_components(p) for p in pa], [_components(p) for p in pb]
    step_a, step_b = _med(p["step_s"] for p in pa), _med(p["step_s"] for p in pb)
    delta = step_b - step_a
    names = [n for n in ca[0] if all(c[n] is not None for c in ca + cb)]
    # a part missing on one side only (no comm in A): that side counts 0
    names += [n for n in ca[0] if n not in names and any(c[n] is not None for c in ca + cb)]
    parts, pair_sum = [], np.zeros((len(pa), len(pb)))
    for n in names:
        va = np.array([c[n] or 0.0 for c in ca])
        vb = np.array([c[n] or 0.0 for c in cb])
        pair = vb[None, :] - va[:, None]
        pair_sum += pair
        parts.append((n, float(np.median(vb) - np.median(va)), pair))
    steps = np.array([p["step_s"] for p in pb])[None, :] - np.array([p["step_s"] for p in pa])[:, None]
    parts.append(("unexplained", delta - sum(d for _, d, _ in parts), steps - pair_sum))
    nan = float("nan")
    # the spread: the part's range over the pairings, over the measured change (a pairing's own change can be
    # near zero, and part / own change would then say nothing)
    return [Part(n, d, d / delta if delta else nan, float(pair.min()) / delta if delta else nan,
                 float(pair.max()) / delta if delta else nan) for n, d, pair in parts]


def _kernel_side(profiles: list[dict]) -> tuple[dict, float, dict, dict]:
    """Mean seconds per step of each normalized kernel over the repeats, the top-N floor, labels, categories
    (from the repeats whose full trace is at hand when there are any: a top-N list only hides kernels)."""
    profiles = [p for p in profiles if p["kernels_from"] == "trace"] or profiles
    keys = set().union(*(p["kernels"] for p in profiles))
    floor = max(p["kernel_floor_s"] for p in profiles)
    times, labels, cats = {}, {}, {}
    for k in keys:
        got = [p["kernels"].get(k, 0.0 if p["kernel_floor_s"] == 0 else None) for p in profiles]
        got = [g for g in got if g is not None]
        times[k] = float(np.mean(got))
        src = next(p for p in profiles if k in p["kernels"])
        labels[k], cats[k] = src["labels"][k], src["categories_of"][k]
    return times, floor, labels, cats


def _kernels(pa, pb, delta) -> dict:
    ta, fa, la, ca = _kernel_side(pa)
    tb, fb, lb, cb = _kernel_side(pb)
    m = kmatch.match(ta, tb, fa, fb)
    labels, cats = {**la, **lb}, {**ca, **cb}

    def rec(key, a, b):
        d = None if a is None or b is None else b - a
        return {"kernel": key, "label": labels[key], "category": cats[key], "a_s": a, "b_s": b, "delta_s": d,
                "share": d / delta if d is not None and delta else None}

    moved = sorted((rec(*x) for x in m["matched"]), key=lambda r: -abs(r["delta_s"]))
    launches = {}  # category -> (A, B) kernel launches per step, from the repeats' kernel lists
    for side, ps in ((0, pa), (1, pb)):
        ps = [p for p in ps if p["kernels_from"] == "trace"] or ps
        for p in ps:
            for k, n in p["counts"].items():
                launches.setdefault(p["categories_of"][k], [0.0, 0.0])[side] += n / len(ps)
    return {"moved": moved, "new": sorted((rec(*x) for x in m["new"]), key=lambda r: -r["b_s"]),
            "vanished": sorted((rec(*x) for x in m["vanished"]), key=lambda r: -r["a_s"]),
            "hidden": [rec(*x) for x in m["hidden"]], "launches": {c: tuple(v) for c, v in launches.items()},
            "kernels_from": sorted({p["kernels_from"] for p in pa + pb})}


def _host(ra: pd.DataFrame, rb: pd.DataFrame, pa, pb) -> dict:
    out = {}
    for side, rows, ps in (("a", ra, pa), ("b", rb, pb)):
        busy = _med(p["busy_frac"] for p in ps)
        syncs = _med(rows["host_syncs_per_step"]) if "host_syncs_per_step" in rows else None
        out[f"busy_frac_{side}"], out[f"idle_s_{side}"] = busy, _med(p["idle_s"] for p in ps)
        out[f"host_syncs_per_step_{side}"] = syncs
        out[f"hook_s_{side}"] = _med(p["hook_s"] for p in ps)
        out[f"host_cpu_s_{side}"] = _med(p["host_cpu_s"] for p in ps)
        out[f"class_{side}"] = host_class(busy, syncs)
    return out


def host_class(busy_frac, host_syncs_per_step) -> str:
    """device-bound, or why the host leaves the GPU idle: sync-bound (it waits for the GPU inside a step)
    or launch-bound (no waits: it cannot enqueue kernels fast enough)."""
    if busy_frac is None:
        return "unknown (no GPU profile)"
    if busy_frac >= HOST_BOUND_BUSY:
        return "device-bound"
    return "sync-bound" if host_syncs_per_step else "launch-bound"


def _ranks(ps: list[dict]) -> list[tuple[float, float]]:
    """Each rank's (exposed, overlapped) collective seconds per step: the median over the repeats."""
    per = [p["comm_ranks"] for p in ps if p["comm_ranks"]]
    return [(_med(r[i][0] for r in per if i < len(r)), _med(r[i][1] for r in per if i < len(r)))
            for i in range(max(len(r) for r in per))]


def _memory(ra: pd.DataFrame, rb: pd.DataFrame) -> dict:
    out = {}
    for col in ("peak_allocated_bytes", *MEMORY_PARTS):
        if col in ra and col in rb:
            a, b = _med(ra[col]), _med(rb[col])
            if a is not None and b is not None:
                out[col] = (a, b)
    grew = [(c, b - a) for c, (a, b) in out.items() if c != "peak_allocated_bytes" and b != a]
    out["grew_most"] = max(grew, key=lambda x: abs(x[1]))[0] if grew else None
    return out


def _lead(e: Explanation) -> str:
    sign = "+" if e.delta_s >= 0 else ""
    head = f"{sign}{e.delta_frac:.1%} step time"
    if not e.delta_s or abs(e.delta_frac) < SAME:
        return f"{head}: no change to explain"
    best = max((p for p in e.parts if p.name != "unexplained"), key=lambda p: p.delta_s * np.sign(e.delta_s),
               default=None)
    kernel_lead = _kernel_lead(e)
    if kernel_lead:
        return f"{head}: {kernel_lead}"
    if best is None or best.delta_s * e.delta_s <= 0:  # every part went the other way, or none moved
        return f"{head}: not accounted for by the profile (unexplained {e.part('unexplained').share:.0%})"
    what = best.name.split(": ", 1)[-1]
    if best.name == "host: GPU idle":
        what = f"GPU idle between kernels (host, {e.host.get('class_b')})"
    elif best.name.startswith("device: "):
        what = f"{CATEGORY_WORDS.get(what, what)} device time"
        # two distinct names: kernels folded apart (a copy's dtypes) may share one label
        movers = list(dict.fromkeys(k["label"] for k in e.kernels.get("moved", []) if k["category"] == best.name[8:]))[:2]
        if movers:
            what += " (" + ", ".join(movers) + ")"
    line = f"{head}: {what} {best.delta_s * 1e3:+.2f} ms/step explains {best.share:.0%}"
    offset = sum(p.delta_s for p in e.parts if p.name.startswith("device: ") and p.delta_s * e.delta_s < 0)
    if best.share > 1.2 and offset:  # more than the change: something else went the other way
        line += f" (device time {offset * 1e3:+.2f} ms/step offsets it)"
    return line


def _kernel_lead(e: Explanation) -> str | None:
    """The fewest kernel changes (new, vanished, grown or shrunk; at most three) that explain at least
    LEAD_SHARE of the change, in words; None when no such few exist."""
    if not e.delta_s:
        return None
    cands = [(k["b_s"], k, "new in B") for k in e.kernels.get("new", [])]
    cands += [(-k["a_s"], k, "gone in B") for k in e.kernels.get("vanished", [])]
    cands += [(k["delta_s"], k, f"{k['delta_s'] * 1e3:+.2f} ms") for k in e.kernels.get("moved", [])]
    cands = sorted((c for c in cands if c[0] * e.delta_s > 0), key=lambda c: -abs(c[0]))
    chosen, total = [], 0.0
    for d, k, how in cands[:3]:
        chosen.append((k, how))
        total += d
        if total / e.delta_s >= 0.8:
            break
    if not chosen or total / e.delta_s < LEAD_SHARE:
        return None
    cats = {CATEGORY_WORDS.get(k["category"], k["category"]) for k, _ in chosen}
    n = len(chosen)
    what = f"{_count(n)} {' and '.join(sorted(cats))} kernel{'s' if n > 1 else ''}"
    desc = ", ".join(dict.fromkeys(f"{k['label']} {how}" for k, how in chosen))  # "x new in B" once
    return f"{what} ({desc}) explain{'s' if n == 1 else ''} {total / e.delta_s:.0%}"


def _count(n: int) -> str:
    return ("one", "two", "three", "four", "five")[n - 1] if 0 < n <= 5 else str(n)


def explain_config(ra: pd.DataFrame, rb: pd.DataFrame, run_a=None, run_b=None, traces=None) -> Explanation:
    """The explanation of one config from its ok rows on each side (ExplainError without profiles).
    `traces`: {(side, repeat): trace dict}, overriding the run directories' stored traces."""
    traces = traces or {}
    ra, rb = ra[ra["status"] == "ok"], rb[rb["status"] == "ok"]
    cid = str((ra if len(ra) else rb)["config_id"].iloc[0]) if len(ra) or len(rb) else "?"
    if ra.empty or rb.empty:
        raise ExplainError(f"config {cid}: no ok repeat in {'A' if ra.empty else 'B'}: nothing to explain")
    pa = [repeat_profile(r, run_a, traces.get(("a", r.get("repeat")))) for r in ra.to_dict("records")]
    pb = [repeat_profile(r, run_b, traces.get(("b", r.get("repeat")))) for r in rb.to_dict("records")]
    pa, pb = [p for p in pa if p], [p for p in pb if p]
    if not pa or not pb:
        raise ExplainError(f"config {cid}: {'A' if not pa else 'B'} has no profile in its rows; rerun it with "
                           "`benchbench run SUITE --profile --config " + cid + "`")
    e = Explanation(cid, "", _med(p["step_s"] for p in pa), _med(p["step_s"] for p in pb), (len(pa), len(pb)))
    e.parts = _parts(pa, pb)
    e.categories = {c: (_med(p["cats"][c] for p in pa), _med(p["cats"][c] for p in pb)) for c in CATEGORIES}
    e.kernels = _kernels(pa, pb, e.delta_s)
    e.host = _host(ra, rb, pa, pb)
    e.communication = {s: (_med(p["comm_s"] for p in ps), _med(p["comm_exposed_s"] for p in ps))
                       for s, ps in (("a", pa), ("b", pb))}
    e.ranks = {s: _ranks(ps) for s, ps in (("a", pa), ("b", pb)) if any(p["comm_ranks"] for p in ps)}
    fa, fb = ([f for f in (explain_pyspy.repeat_functions(r, d) for r in rows.to_dict("records")) if f]
              for rows, d in ((ra, run_a), (rb, run_b)))
    if fa and fb:
        e.python = explain_pyspy.movers(fa, fb, e.delta_s)
    e.memory = _memory(ra, rb)
    sources = set(e.kernels["kernels_from"])
    if sources == {"row"}:
        e.notes.append("kernels from the rows' top-10 lists (the traces were not found): a kernel below a "
                       "side's tenth is not known there")
    elif "row" in sources:
        e.notes.append("kernels from the repeats whose traces are stored (the others' rows keep only their top 10)")
    e.lead = _lead(e)
    return e


def explain_runs(a: pd.DataFrame, b: pd.DataFrame, run_a=None, run_b=None, config: str | None = None,
                 labels: dict | None = None) -> tuple[list[Explanation], list[str]]:
    """(an Explanation per config in both runs (or just `config`), why each other config has none);
    ExplainError when none can be given."""
    common = [c for c in dict.fromkeys(a["config_id"]) if c in set(b["config_id"])]
    if config is not None:
        if config not in common:
            raise ExplainError(f"config {config} is not in both runs (configs in both: {', '.join(common) or 'none'})")
        common = [config]
    if not common:
        raise ExplainError("the two runs share no config id: nothing to explain")
    out, why = [], []
    for cid in common:
        try:
            e = explain_config(a[a["config_id"] == cid], b[b["config_id"] == cid], run_a, run_b)
        except ExplainError as err:
            why.append(str(err))
            continue
        e.label = (labels or {}).get(cid, cid)
        out.append(e)
    if not out:
        raise ExplainError(why[0] if len(why) == 1 else f"no config can be explained: {why[0]} (and {len(why) - 1} more)")
    return out, why


def profiled(df: pd.DataFrame) -> bool:
    """Whether any ok row of df carries a profile."""
    return any(has_profile(r) for r in df[df["status"] == "ok"].to_dict("records")) if len(df) else False


def leads(a: pd.DataFrame, b: pd.DataFrame, verdicts: pd.DataFrame, run_a=None, run_b=None) -> dict[str, str]:
    """config_id -> the one-line explanation, for every config of a compare table (`verdicts`) judged
    faster or slower whose rows on both sides carry a profile; nothing for the others."""
    out = {}
    if a.empty or b.empty or not profiled(a) or not profiled(b):
        return out
    judged = list(verdicts.loc[verdicts["verdict"].isin(("faster", "slower")), "config_id"])
    if len(judged) > MAX_TRACED:  # a large sweep: the rows' top-10 lists, not every stored trace
        run_a = run_b = None
    for cid in judged:
        try:
            out[cid] = explain_config(a[a["config_id"] == cid], b[b["config_id"] == cid], run_a, run_b).lead
        except ExplainError:
            continue
    return out


def lead_between(run_a, run_b, config_id: str) -> str | None:
    """The one-line explanation of one config between two stored run directories; None when a directory is
    gone, the config is not ok in both, or a side has no profile."""
    from benchbench.store import results

    try:
        a, b = results.load(run_a), results.load(run_b)
    except (results.StoreError, OSError):
        return None
    if a.empty or b.empty or not (profiled(a) and profiled(b)):
        return None
    try:
        return explain_config(a[a["config_id"] == config_id], b[b["config_id"] == config_id], run_a, run_b).lead
    except ExplainError:
        return None
