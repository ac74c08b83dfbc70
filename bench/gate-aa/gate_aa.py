"""Does the gate work on this machine? A/A false alarms, a real slowdown, a sub-noise slowdown.

    python bench/gate-aa/gate_aa.py --out /tmp/gate_aa                 # 5 A/A runs (20 gates), 2 at 2x slower
    python bench/gate-aa/gate_aa.py --out /tmp/gate_aa_busy --load 2   # the same while 2 busy loops compete for the cores
    python bench/gate-aa/gate_aa.py --out /tmp/gate_aa --threads 2 --omp1 3 # also OMP_NUM_THREADS=1 vs 2

Runs the suite (default suites/quickstart.yaml) N times unchanged ("A/A"), then with a deliberate
proportional slowdown (bench/gate-aa/slowdown/sitecustomize.py: every optimizer step sleeps (k - 1) x its
own compute time, so steps take k times as long; same suite, same config ids), and gates
(benchbench.analysis.gate.check, what `benchbench gate` runs) with the rules of --rules-from (default the
committed baselines/cpu-quickstart.json):

- A/A: every ordered pair of A runs (baseline, run) -> how many gates PASS, FAIL (false alarms) and are
  INCONCLUSIVE (exit 4: too noisy, or another/busier host);
- slowdown k=--slow-factor against every A run -> the detection count (must be all);
- slowdown k=--subnoise-factor against every A run -> how many gate failures (must be none) and
  how many configs get no verdict (same, undecided or two modes);
- the A/A spread: per config, run/baseline ratio of the median per-step throughput, over all pairs.

Runs already complete under --out are reused (rerun with a new --out for fresh numbers). Every
run gets OMP_NUM_THREADS=--threads. Writes OUT/summary.json and prints the numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchbench.analysis import gate  # noqa: E402
from benchbench.store import baseline, results  # noqa: E402


def run_suite(suite: Path, out: Path, threads: int, slowdown: float | None = None) -> Path:
    if (out / "run.json").exists() and results.read_json(out / "run.json").get("finished_at"):
        return out
    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    if slowdown:
        env["PYTHONPATH"] = os.pathsep.join([str(REPO / "bench" / "gate-aa" / "slowdown"), env["PYTHONPATH"]])
        env["BENCH_SLOWDOWN"] = str(slowdown)
    if out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    t0 = time.monotonic()
    load = os.getloadavg()[0]
    p = subprocess.run([sys.executable, "-m", "benchbench.cli", "run", str(suite), "-o", str(out), "-q"],
                       env=env, cwd=REPO, capture_output=True, text=True)
    print(f"  {out.name}: rc={p.returncode} {time.monotonic() - t0:.0f} s (load at start {load:.2f})", flush=True)
    if p.returncode != 0:
        sys.exit(f"{out}: benchbench run failed:\n{p.stderr[-2000:]}")
    return out


def as_baseline(run_dir: Path, rules: list[str]) -> baseline.Baseline:
    data = baseline.build(run_dir, run_dir.name, rules)
    return baseline.Baseline(path=run_dir, data=data, rows=baseline.read_run(run_dir)[0])


def gate_pair(base: baseline.Baseline, run_dir: Path, rules: list[gate.Rule], level: float):
    rows, run, env = baseline.read_run(run_dir)
    return gate.check(base, rows, run, env, rules, level=level)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--suite", type=Path, default=REPO / "suites" / "quickstart.yaml")
    ap.add_argument("--aa", type=int, default=5, help="A/A runs (default 5: 20 ordered pairs)")
    ap.add_argument("--slow", type=int, default=2, help="runs with the real slowdown (default 2)")
    ap.add_argument("--slow-factor", type=float, default=2.0)
    ap.add_argument("--subnoise", type=int, default=0, help="runs with the sub-noise slowdown (default 0)")
    ap.add_argument("--load", type=int, default=0, help="busy-loop processes competing for the cores throughout")
    ap.add_argument("--subnoise-factor", type=float, default=1.03)
    ap.add_argument("--omp1", type=int, default=0, help="runs with OMP_NUM_THREADS=1 (with --threads 2)")
    ap.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of every other run (default 1, as CI)")
    ap.add_argument("--rules-from", type=Path, default=REPO / "baselines" / "cpu-quickstart.json")
    ap.add_argument("--rule", action="append", help="rules instead of --rules-from's")
    ap.add_argument("--level", type=float, default=0.05)
    args = ap.parse_args()
    rule_text = args.rule or baseline.load(args.rules_from).rules
    rules = [gate.parse_rule(r) for r in rule_text]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"rules: {', '.join(map(str, rules))}; OMP_NUM_THREADS={args.threads}; runs under {args.out}", flush=True)

    plan = [(f"aa{i:02d}", args.threads, None) for i in range(1, args.aa + 1)]
    plan += [(f"slow{i:02d}", args.threads, args.slow_factor) for i in range(1, args.slow + 1)]
    plan += [(f"sub{i:02d}", args.threads, args.subnoise_factor) for i in range(1, args.subnoise + 1)]
    plan += [(f"omp1-{i:02d}", 1, None) for i in range(1, args.omp1 + 1)]
    # interleaved, so each kind sees the same mix of machine load: aa, slow, sub, omp1, aa, ...
    order = sorted(plan, key=lambda p: (int(p[0][-2:]), p[0][:-2]))
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        dirs = {name: run_suite(args.suite, args.out / name, threads, k) for name, threads, k in order}
    finally:
        for p in loops:
            p.kill()
            p.wait()

    aa = [dirs[n] for n, _, _ in plan if n.startswith("aa")]
    bases = {d: as_baseline(d, rule_text) for d in aa}
    summary = {"rules": rule_text, "threads": args.threads, "level": args.level, "suite": str(args.suite),
               "competing_loops": args.load}

    def tally(runs, label):
        fails, pairs, inconclusive = 0, 0, 0
        per_rule = {str(r): {"same": 0, "configs": 0, "ratios": []} for r in rules}
        for b, r in itertools.product(aa, runs):
            if b == r:
                continue
            res = gate_pair(bases[b], r, rules, args.level)
            pairs += 1
            fails += res.exit_code == 1
            inconclusive += res.exit_code == gate.EXIT_INCONCLUSIVE
            for name, t in res.tables.items():
                per_rule[name]["same"] += int(t["verdict"].isin(["same", "undecided", "two modes"]).sum())  # no verdict
                per_rule[name]["configs"] += len(t)
                per_rule[name]["ratios"] += [float(x) for x in t["ratio"].dropna()]
        rec = {"gates": pairs, "failed": fails, "inconclusive": inconclusive, "passed": pairs - fails - inconclusive}
        print(f"{label}: {pairs} gates: {pairs - fails - inconclusive} PASS, {fails} FAIL, {inconclusive} INCONCLUSIVE",
              flush=True)
        for name, d in per_rule.items():
            x = np.array(d["ratios"] or [np.nan])
            q = {k: float(v) for k, v in zip(("min", "p05", "median", "p95", "max"),
                                             (x.min(), *np.quantile(x, [0.05, 0.5, 0.95]), x.max()))}
            rec[name] = {"same_within_noise": d["same"], "configs": d["configs"], "ratio": q}
            print(f"  {name}: {d['same']}/{d['configs']} configs without a verdict; run/baseline ratio "
                  + " ".join(f"{k} {v:.3f}" for k, v in q.items()), flush=True)
        summary[label] = rec

    tally(aa, "aa")
    for prefix, label in (("slow", f"slowdown x{args.slow_factor:g}"), ("sub", f"slowdown x{args.subnoise_factor:g}"),
                          ("omp1-", "OMP_NUM_THREADS=1")):
        runs = [dirs[n] for n, _, _ in plan if n.startswith(prefix)]
        if runs:
            tally(runs, label)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"-> {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()
