"""History calibration: seeded 30-run series, fed through the history's public functions
(changepoints.analyze, with PELT or an e-divisive proposer), and the rate of each outcome per shape.

    python bench/calibration/history.py run [--series 1000] [--seed 0]   # simulate; write the table below
    python bench/calibration/history.py table                            # print that table (docs/history.md)

The noise model is fitted from the committed GPU rows (fit(): every H200 config with 3+ ok repeats for
the repeat level and the slow repeats; configs measured in several identical runs for the run level).
Each run's level is the series' level x (1 + run offset); each repeat is that x (1 + repeat noise),
and a repeat lands slow (x SLOW_FACTOR) with the fitted probability. Shapes (30 runs, 3 repeats):
flat; a 3% step at a random run with at least 3 runs on either side; a 6% drift (0.2% a run); two modes
3% apart (each run lands in one at random); one outlier run (all its repeats x SLOW_FACTOR) at a random
run. Then the same shapes under a stress model (1% between runs and between repeats). The table: for each
shape and proposer, the share of series with any change point, with the true
step found (a change point within one run of it, the right way), with a drift, with two modes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, ROOT, load  # noqa: E402

from benchbench.analysis import changepoints  # noqa: E402

OUT = EXAMPLES / "calibration-cpu" / "history.txt"
RUNS, REPEATS = 30, 3
SLOW_FACTOR = 0.90
SHAPES = ("flat", "step 3%", "drift 6%", "two modes 3%", "one outlier run")
GPU_DIRS = ("history-h200", "verdicts-h200", "reference-h200", "llama-h200", "llama-fp8-h200", "auto-steps-h200",
            "answers-h200", "llama-bf16-h200")


def fit() -> dict:
    """run_sd, repeat_sd (robust, log units) and slow_share from the committed H200 rows."""
    import pandas as pd

    frames = []
    for d in GPU_DIRS:
        for sub in sorted(p.parent for p in (EXAMPLES / d).rglob("rows.jsonl") if "autobatch" not in str(p)):
            df = load(str(sub.relative_to(EXAMPLES)))
            if len(df):
                frames.append(df.assign(run=str(sub)))
    df = pd.concat(frames, ignore_index=True)
    df = df[(df["status"] == "ok")]
    df["v"] = df["tokens_per_s"].fillna(df.get("samples_per_s"))
    df = df[df["v"] > 0]
    dev, slow = [], 0
    for _, g in df.groupby(["run", "config_id"]):
        if len(g) >= 3:
            y = np.log(g["v"].to_numpy(float))
            r = y - np.median(y)
            slow += int((r < -0.05).sum())
            dev += list(r[r >= -0.05])
    repeat_sd = 1.4826 * float(np.median(np.abs(dev))) * 1.5   # median of 3: small-sample MAD runs low
    slow_share = slow / max(1, len(dev) + slow)
    # the run level: configs measured in several identical runs (the history's runs before and after its
    # planted step; the verdicts' A and B)
    ss, dof = 0.0, 0
    for d, groups in (("history-h200", (range(1, 5), range(5, 9))), ("verdicts-h200", (("a", "b"),))):
        for grp in groups:
            med = {}
            for r in grp:
                rows = load(f"{d}/run-{r}" if isinstance(r, int) else f"{d}/{r}")
                for cid, g in rows[rows["status"] == "ok"].groupby("config_id"):
                    v = g["tokens_per_s"].fillna(g.get("samples_per_s")).to_numpy(float)
                    med.setdefault(cid, []).append(float(np.median(np.log(v))))
            for vals in med.values():
                if len(vals) >= 2:   # pooled variance of the run medians of one config in identical runs
                    ss += float(np.sum(np.square(np.asarray(vals) - np.mean(vals))))
                    dof += len(vals) - 1
    run_sd = float(np.sqrt(ss / dof))
    return {"run_sd": run_sd, "repeat_sd": repeat_sd, "slow_share": slow_share}


def series(shape: str, noise: dict, rng) -> tuple[list[np.ndarray], int | None]:
    """(points, the true step's index or None) for one series of `shape`."""
    level = np.ones(RUNS)
    step_at = None
    if shape == "step 3%":
        step_at = int(rng.integers(3, RUNS - 2))
        level[step_at:] = 0.97
    elif shape == "drift 6%":
        level = 1 - 0.002 * np.arange(RUNS)
    elif shape == "two modes 3%":
        level = np.where(rng.random(RUNS) < 0.5, 1.0, 0.97)
    elif shape == "one outlier run":
        level[int(rng.integers(0, RUNS))] = SLOW_FACTOR
    run = level * np.exp(rng.normal(0, noise["run_sd"], RUNS))
    rep = np.exp(rng.normal(0, noise["repeat_sd"], (RUNS, REPEATS)))
    rep *= np.where(rng.random((RUNS, REPEATS)) < noise["slow_share"], SLOW_FACTOR, 1.0)
    return [1e5 * run[i] * rep[i] for i in range(RUNS)], step_at


def edivisive(y: np.ndarray, min_segment: int, max_p: float = 0.001) -> list[int]:
    """E-divisive means as Hunter (Apache Otava) runs it: split each segment where the energy statistic
    peaks, keep the split when a Welch t-test of its two sides gives p < max_p, recurse."""
    from scipy import stats as sps

    def best(a, b):
        x = y[a:b]
        n = x.size
        if n < 2 * min_segment:
            return None
        d = np.abs(x[:, None] - x[None, :])
        top, where = -1.0, None
        for t in range(min_segment, n - min_segment + 1):
            left, right = d[:t, :t], d[t:, t:]
            e = 2 * d[:t, t:].mean() - left.sum() / max(1, t * (t - 1)) - right.sum() / max(1, (n - t) * (n - t - 1))
            q = e * t * (n - t) / n
            if q > top:
                top, where = q, t
        p = sps.ttest_ind(x[:where], x[where:], equal_var=False).pvalue
        return a + where if p < max_p else None

    out, todo = [], [(0, y.size)]
    while todo:
        a, b = todo.pop()
        t = best(a, b)
        if t is not None:
            out.append(t)
            todo += [(a, t), (t, b)]
    return sorted(out)


PROPOSERS = {"PELT": None, "e-divisive": edivisive}


def simulate(n_series: int, seed: int, noise: dict, shapes=SHAPES, proposers=PROPOSERS) -> dict:
    """{(shape, proposer): {any change point, step found, drift, two modes}: shares of n_series}."""
    out = {}
    for si, shape in enumerate(shapes):
        for name, propose in proposers.items():
            rng = np.random.default_rng([seed, si])   # the same series for every proposer
            counts = {"change point": 0, "step found": 0, "drift": 0, "two modes": 0}
            for _ in range(n_series):
                pts, step_at = series(shape, noise, rng)
                s = changepoints.analyze(pts, propose=propose)
                counts["change point"] += bool(s.changes)
                counts["step found"] += step_at is not None and any(
                    abs(c.index - step_at) <= 1 and c.ratio < 1 for c in s.changes)
                counts["drift"] += s.drift is not None
                counts["two modes"] += s.two_modes is not None
            out[shape, name] = {k: v / n_series for k, v in counts.items()}
    return out


TARGETS = {"flat": "no change point in >= 99%", "step 3%": "found in >= 95%", "drift 6%": "drift in >= 80%",
           "two modes 3%": "change point in <= 5%", "one outlier run": "change point in <= 1%"}


STRESS = {"run_sd": 0.01, "repeat_sd": 0.01, "slow_share": 0.04}


def table(res: dict, noise: str = "fitted") -> str:
    lines = ["| noise | series (30 runs x 3 repeats) | detector | any change point | true step found | drift | two modes "
             "| target (fitted noise) |", "|---|---|---|---|---|---|---|---|"]
    for (shape, name), r in res.items():
        found = f"{r['step found']:.1%}" if shape.startswith("step") else "-"
        lines.append(f"| {noise} | {shape} | {name} | {r['change point']:.1%} | {found} | {r['drift']:.1%} | "
                     f"{r['two modes']:.1%} | {TARGETS[shape] if noise == 'fitted' else '-'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["run", "table"])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.what == "table":
        print(OUT.read_text().rstrip("\n"))
        return 0
    noise = fit()
    res = simulate(args.series, args.seed, noise)
    stress = simulate(args.series, args.seed, STRESS, proposers={"PELT": None})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = (f"Seeded simulation on a CPU ({dt.date.today().isoformat()}, commit {commit}; "
            f"`python bench/calibration/history.py run --series {args.series} --seed {args.seed}`): "
            f"{args.series} series per shape; noise fitted from the committed H200 rows: between runs "
            f"{noise['run_sd']:.2%}, between repeats {noise['repeat_sd']:.2%}, {noise['slow_share']:.1%} of "
            f"repeats {1 - SLOW_FACTOR:.0%} slow; stress: {STRESS['run_sd']:.0%} between runs, "
            f"{STRESS['repeat_sd']:.0%} between repeats, {STRESS['slow_share']:.0%} slow.\n\n")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(head + table(res) + "".join(table(stress, "stress").splitlines(True)[2:]))
    print(OUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
