"""Fit the calibration noise model from the committed GPU rows; write results/examples/calibration-cpu/fit.json.

    python bench/calibration/fit.py

- per repeat: throughput from its median step (1 / step_time_s_median), as compare() measures it;
- between repeats: the median difference between two repeats of one (run, config), as a normal SD
  (robust to odd repeats), over every GPU run under results/examples/ with 3+ ok repeats a config;
- slow repeats: the share of repeats more than SLOW_SIGMAS of that SD below their config's median
  throughput, and their median size;
- steps: the median over repeats of the robust CV of their step times;
- between runs: identical sweeps (results/examples/verdicts-h200/a and b) differ per config by
  d = log(median b / median a); E[d^2] = 2 between_runs^2 + the repeats' part, so
  between_runs = sqrt(max(0, (mean d^2 - repeats' part) / 2)); the default used by compare
  (evidence.DEFAULT_BETWEEN_RUN_SD) is this rounded up to the next 0.1%.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchbench.store import results  # noqa: E402

EXAMPLES = ROOT / "results" / "examples"
OUT = EXAMPLES / "calibration-cpu" / "fit.json"
SLOW_SIGMAS = 6.0
AA = ("verdicts-h200/a", "verdicts-h200/b")


def gpu_runs() -> list[Path]:
    out = []
    for rows in sorted(EXAMPLES.glob("**/rows.jsonl")):
        if "cpu" not in rows.relative_to(EXAMPLES).parts[0]:
            out.append(rows.parent)
    return out


def per_config_logs(run_dir: Path) -> dict[str, np.ndarray]:
    df = results.load(run_dir)
    ok = df[(df["status"] == "ok")] if "status" in df else df
    if "step_time_s_median" not in ok or "device_type" not in ok or not (ok["device_type"] == "cuda").any():
        return {}
    out = {}
    for cid, g in ok.groupby("config_id"):  # throughput from the median step, as compare() measures it
        v = g["step_time_s_median"].dropna().to_numpy(dtype=float)
        if v.size >= 3 and (v > 0).all():
            out[cid] = -np.log(v)
    return out


def main():
    runs = {str(d.relative_to(EXAMPLES)): per_config_logs(d) for d in gpu_runs()}
    runs = {k: v for k, v in runs.items() if v}
    sides = [v for r in runs.values() for v in r.values()]
    pairs = [abs(a - b) for v in sides for i, a in enumerate(v) for b in v[i + 1:]]
    sd = float(np.median(pairs)) / (math.sqrt(2) * 0.6745)
    dev = np.concatenate([v - np.median(v) for v in sides])
    slow = dev[dev < -SLOW_SIGMAS * sd]
    steps = []
    for d in runs:
        df = results.load(EXAMPLES / d)
        for t in df.loc[df["status"] == "ok", "step_times_s"].dropna():
            t = np.asarray(t, dtype=float)
            if t.size >= 5:
                steps.append(1.4826 * np.median(np.abs(t - np.median(t))) / np.median(t))
    a, b = (per_config_logs(EXAMPLES / d) for d in AA)
    d2, within = [], []
    for cid in a.keys() & b.keys():
        d2.append((np.median(b[cid]) - np.median(a[cid])) ** 2)
        within.append(1.253 ** 2 * sd ** 2 * (1 / a[cid].size + 1 / b[cid].size))
    between = math.sqrt(max(0.0, (float(np.mean(d2)) - float(np.mean(within))) / 2)) if d2 else float("nan")
    noise = {"between_runs": round(between, 5), "between_repeats": round(sd, 5),
             "slow_rate": round(slow.size / dev.size, 4), "slow_size": round(float(-np.expm1(np.median(slow))), 4)
             if slow.size else 0.0, "steps_noise": round(float(np.median(steps)), 5)}
    fit = {"noise": noise, "between_runs_default": math.ceil(between * 1000) / 1000,
           "sources": {"repeats": sorted(runs), "between_runs": list(AA)},
           "counts": {"runs": len(runs), "configs": len(sides), "repeats": int(dev.size), "slow_repeats": int(slow.size),
                      "aa_configs": len(d2)}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fit, indent=1) + "\n")
    print(json.dumps(fit, indent=1))


if __name__ == "__main__":
    main()
