"""The calibration bench of compare, gate and recommend: seeded simulated runs (simulate.py) fed to the
real public functions; writes results/examples/calibration-cpu/compare_gate.json.

    python bench/calibration/compare_gate.py [--sims N] [--out FILE]

For each noise model (the one fitted from the committed GPU rows, and the stress models) and 3 and 5
repeats:
- A/A (two runs of the same 50 configs): false verdicts per config; the share of pairs of runs with
  any false verdict over 10 configs, 50 configs, and 50 configs x 2 metrics (tokens_per_s and
  step_time_s_median, adjusted together); configs flagged `two modes`; the gate's false FAIL with a
  tokens_per_s:-5% rule over 50 configs;
- power (fitted model; 5 of 50 configs slowed by 1, 2, 3, 5, 10%): the share of slowed configs
  called `slower`, and false verdicts on the 45 others;
- recommend (fitted model; 8 configs of one run, the best 2-20% ahead of the rest): the share of
  runs that pick the truly best config, say no pick yet, or pick another.
Everything is seeded: the same command gives the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]
import simulate as sim  # noqa: E402

from benchbench.analysis import compare, family, gate, recommend  # noqa: E402
from benchbench.spec.rules import parse_rule  # noqa: E402
from benchbench.store.baseline import Baseline  # noqa: E402

OUT = ROOT / "results" / "examples" / "calibration-cpu" / "compare_gate.json"
CONFIGS = 50
SLOWDOWNS = (0.01, 0.02, 0.03, 0.05, 0.10)
RECOMMEND_GAPS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.15, 0.20)  # step time above the best config's
RUN = {"suite": "calibration", "smoke": False}


def false_verdicts(t) -> int:
    return int(t["verdict"].isin(["faster", "slower"]).sum())


def aa(noise: sim.Noise, repeats: int, sims: int, seed: int) -> dict:
    per_config, any10, any50, any_metrics, flagged, gate_fail, undecided = [], [], [], [], [], [], []
    for s in range(sims):
        a = sim.frame(sim.run_rows("a", CONFIGS, repeats, noise, seed + 2 * s, steps=0))
        b = sim.frame(sim.run_rows("b", CONFIGS, repeats, noise, seed + 2 * s + 1, steps=0))
        t = compare.compare(a, b, "tokens_per_s")
        per_config.append(false_verdicts(t) / CONFIGS)
        any50.append(false_verdicts(t) > 0)
        flagged.append(float((t["verdict"] == "two modes").mean()))
        undecided.append(float((t["verdict"] == "undecided").mean()))
        ten = sim.config_ids(10)
        any10.append(false_verdicts(compare.compare(a[a.config_id.isin(ten)], b[b.config_id.isin(ten)])) > 0)
        t2 = compare.compare(a, b, "step_time_s_median")
        family.adjust([t, t2])
        any_metrics.append(false_verdicts(t) + false_verdicts(t2) > 0)
        base = Baseline(Path("simulated.json"), {**RUN, "env": {}}, a)
        res = gate.check(base, b, RUN, {}, [parse_rule("tokens_per_s:-5%")])
        gate_fail.append(res.exit_code == 1)
    return {"false_verdicts_per_config": float(np.mean(per_config)), "any_false_10": float(np.mean(any10)),
            "any_false_50": float(np.mean(any50)), "any_false_50x2_metrics": float(np.mean(any_metrics)),
            "two_modes_flagged": float(np.mean(flagged)), "undecided": float(np.mean(undecided)),
            "gate_false_fail_50": float(np.mean(gate_fail)), "sims": sims}


def power(noise: sim.Noise, repeats: int, sims: int, seed: int) -> dict:
    slowed = sim.config_ids(5)
    out = {}
    for x in SLOWDOWNS:
        found, false = [], []
        for s in range(sims):
            a = sim.frame(sim.run_rows("a", CONFIGS, repeats, noise, seed + 2 * s, steps=0))
            b = sim.frame(sim.run_rows("b", CONFIGS, repeats, noise, seed + 2 * s + 1, steps=0,
                                       slowdown={c: x for c in slowed}))
            t = compare.compare(a, b, "tokens_per_s")
            hit = t["config_id"].isin(slowed)
            found.append(float((t.loc[hit, "verdict"] == "slower").mean()))
            false.append(false_verdicts(t[~hit]) > 0)
        out[f"{x:.0%}"] = {"found": float(np.mean(found)), "any_false_others": float(np.mean(false)), "sims": sims}
    return out


def recommends(noise: sim.Noise, repeats: int, sims: int, seed: int) -> dict:
    ids = sim.config_ids(len(RECOMMEND_GAPS))
    base = {c: sim.BASE_STEP_S * (1 + g) for c, g in zip(ids, RECOMMEND_GAPS)}
    best, picked, none, wrong, wrong5 = ids[0], [], [], [], []
    for s in range(sims):
        df = sim.frame(sim.run_rows("r", ids, repeats, noise, seed + s, steps=0, base=base))
        r = recommend.recommend(df)
        picked.append(r.pick == best)
        none.append(r.pick is None)
        wrong.append(r.pick not in (None, best))
        wrong5.append(r.pick is not None and RECOMMEND_GAPS[ids.index(r.pick)] >= 0.05)
    return {"best": float(np.mean(picked)), "no_pick": float(np.mean(none)), "other": float(np.mean(wrong)),
            "other_5pct_slower": float(np.mean(wrong5)), "sims": sims}


def _cell(task):
    kind, name, repeats, n = task
    fitted = sim.Noise.fitted()
    if kind == "aa":
        return kind, f"{name}|{repeats}", aa(sim.models(fitted)[name], repeats, n, seed=1000 * repeats)
    if kind == "power":
        return kind, str(repeats), power(fitted, repeats, n, seed=7000 + repeats)
    return kind, str(repeats), recommends(fitted, repeats, n, seed=9000 + repeats)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sims", type=int, default=40, help="simulated pairs of runs per cell (stress models: half)")
    p.add_argument("--jobs", type=int, default=1, help="cells computed in parallel processes (same results)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    fitted = sim.Noise.fitted()
    out = {"noise": {k: v.as_dict() for k, v in sim.models(fitted).items()}, "configs": CONFIGS, "aa": {},
           "power": {}, "recommend": {}}
    tasks = [("aa", name, r, args.sims if name == "fitted" else max(1, args.sims // 2))
             for name in sim.models(fitted) for r in (3, 5)]
    tasks += [(k, "fitted", r, max(1, args.sims // 2) if k == "power" else args.sims * 2)
              for k in ("power", "recommend") for r in (3, 5)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for kind, key, res in pool.map(_cell, tasks):
            out[kind][key] = res
            print(kind, key, res, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
