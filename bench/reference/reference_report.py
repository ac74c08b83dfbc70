"""Compare a `benchbench run suites/reference.yaml` run with the issue-3 targets.

    python bench/reference_report.py RUN_DIR_OR_ROWS_JSONL [--markdown]

Step time is the median over repeats of each row's step_time_s_median; tokens/s and MFU use
the mean step time (as the worker's tokens_per_s does), median over repeats. Per-config
overhead is wall_s - warmup_s - measured_s of each row (process start, imports, CUDA init,
model build, collectors, writing the result); compile time is first_step_s of the compiled rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

PEAK_TFLOPS = 989.0  # H100 SXM dense bf16
GiB = 1024**3

# (precision, attention, checkpointing, compile) -> hand-loop numbers measured earlier on an H100 (torch 2.11)
TARGETS = {
    ("bf16", "sdpa", "none", "off"): dict(label="bf16 + SDPA", ms=54, gib=16),
    ("fp32", "sdpa", "none", "off"): dict(label="fp32 + SDPA", ms=304),
    ("tf32", "sdpa", "none", "off"): dict(label="tf32 + SDPA", ms=110),
    ("fp16", "sdpa", "none", "off"): dict(label="fp16 + GradScaler + SDPA", ms=55),
    ("bf16", "eager", "none", "off"): dict(label="bf16 + eager attention", ms=144, gib=30),
    ("bf16", "sdpa", "full", "off"): dict(label="bf16 + SDPA + full checkpointing", ms=70, gib=11.4),
    ("bf16", "sdpa", "none", "default"): dict(label="bf16 + SDPA + compile", ms=37, mfu=40.0),
}
TOLERANCE = 1.03  # within 3% of the hand-loop step time, or faster
OVERHEAD_TARGET_S = 10.0


def load(path: str) -> list[dict]:
    p = Path(path)
    if p.is_dir():
        p = p / "rows.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["precision"], r["attention"], r["checkpointing"], r["compile"]), []).append(r)
    out = []
    for key, t in TARGETS.items():
        g = groups.get(key, [])
        ok = [r for r in g if r.get("status") == "ok"]
        rec = dict(key=key, label=t["label"], target_ms=t["ms"], target_gib=t.get("gib"), target_mfu=t.get("mfu"),
                   statuses=[r.get("status") for r in g], reasons=[r.get("reason") for r in g if r.get("reason")])
        if ok:
            rec["ms"] = 1e3 * med([r["step_time_s_median"] for r in ok])
            rec["ms_each"] = [1e3 * r["step_time_s_median"] for r in ok]
            rec["tokens_per_s"] = med([r.get("tokens_per_s") for r in ok])
            rec["tflops"] = med([r["model_tflops_per_s"] for r in ok])
            rec["mfu"] = 100 * rec["tflops"] / PEAK_TFLOPS
            peak = med([r.get("peak_allocated_bytes") for r in ok])
            rec["gib"] = None if peak is None else peak / GiB
            rec["cv"] = med([r.get("step_time_s_cv") for r in ok])
            rec["overhead_each"] = [r["wall_s"] - r["warmup_s"] - r["measured_s"] for r in ok]
            rec["setup_each"] = [r["setup_s"] for r in ok]
            rec["first_step_each"] = [r.get("first_step_s") for r in ok]
            rec["wall_each"] = [r["wall_s"] for r in ok]
            rec["pass_ms"] = rec["ms"] <= t["ms"] * TOLERANCE
            rec["pass_mfu"] = None if t.get("mfu") is None else rec["mfu"] >= t["mfu"]
            rec["pass_overhead"] = max(rec["overhead_each"]) < OVERHEAD_TARGET_S
        out.append(rec)
    return out


def _f(x, spec):
    return "-" if x is None else format(x, spec)


def _pf(b):
    return "-" if b is None else ("PASS" if b else "FAIL")


def text(recs) -> str:
    lines = [f"{'config':34s} {'ms':>7s} {'target':>6s} {'vs tgt':>7s} {'ms':>4s} {'tok/s':>9s} {'MFU%':>5s} {'MFU':>4s} "
             f"{'GiB':>6s} {'tgtGiB':>6s} {'ovh s (each)':>13s} {'ovh':>4s} {'1st step s':>12s}  status"]
    for r in recs:
        if "ms" not in r:
            lines.append(f"{r['label']:34s} no ok rows: {r['statuses']} {r['reasons'][:1]}")
            continue
        d = 100 * (r["ms"] / r["target_ms"] - 1)
        ovh = "/".join(f"{x:.1f}" for x in r["overhead_each"])
        first = "/".join(_f(x, ".1f") for x in r["first_step_each"])
        lines.append(f"{r['label']:34s} {r['ms']:7.2f} {r['target_ms']:6.0f} {d:+6.1f}% {_pf(r['pass_ms']):>4s} "
                     f"{r['tokens_per_s']:9,.0f} {r['mfu']:5.1f} {_pf(r['pass_mfu']):>4s} {_f(r['gib'], '6.2f')} "
                     f"{_f(r['target_gib'], '6.1f')} {ovh:>13s} {_pf(r['pass_overhead']):>4s} {first:>12s}  {r['statuses']}")
    return "\n".join(lines)


def markdown(recs) -> str:
    head = ("| config | step ms (median) | hand loop ms | Δ | ≤ +3% | tokens/s | MFU % | peak GiB | hand loop GiB "
            "| overhead s (r0 / r1) | < 10 s | first step s (r0 / r1) |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [head]
    for r in recs:
        if "ms" not in r:
            rows.append(f"| {r['label']} | {r['statuses']} | {r['target_ms']} | | FAIL | | | | | | | |")
            continue
        d = 100 * (r["ms"] / r["target_ms"] - 1)
        mfu = f"{r['mfu']:.1f}" + (f" ({_pf(r['pass_mfu'])} ≥ {r['target_mfu']:.0f})" if r["target_mfu"] else "")
        rows.append(
            f"| {r['label']} | {r['ms']:.2f} | {r['target_ms']} | {d:+.1f}% | {_pf(r['pass_ms'])} | {r['tokens_per_s']:,.0f} "
            f"| {mfu} | {_f(r['gib'], '.2f')} | {_f(r['target_gib'], '.1f')} | {' / '.join(f'{x:.1f}' for x in r['overhead_each'])} "
            f"| {_pf(r['pass_overhead'])} | {' / '.join(_f(x, '.1f') for x in r['first_step_each'])} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rows")
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args(argv)
    recs = summarize(load(a.rows))
    print(markdown(recs) if a.markdown else text(recs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
