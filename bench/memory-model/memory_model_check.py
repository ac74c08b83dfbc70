"""Predicted (benchbench/memory_model.py) against measured peak allocator memory, for every ok GPU
row of the given runs (rows.jsonl files or run directories); prints a table and the error spread.

    python bench/memory_model_check.py results/examples/*/ [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchbench.plan import memory_model  # noqa: E402
from benchbench.spec.config import FIELDS, RunConfig  # noqa: E402

SHOW = ("model_size", "engine", "world_size", "zero_stage", "precision", "attention", "checkpointing", "batch_size",
        "grad_accum")


def rows_of(path: Path):
    files = [path] if path.is_file() else sorted(path.glob("rows*.jsonl"))
    for f in files:
        for line in f.read_text().splitlines():
            r = json.loads(line)
            if r.get("status") == "ok" and r.get("peak_allocated_bytes") and r.get("model") == "gpt":
                yield f, r


def config(r: dict) -> RunConfig:
    d = {k: r[k] for k in FIELDS if k in r and r[k] is not None and r[k] == r[k]}
    d["model_args"] = json.loads(d["model_args"]) if isinstance(d.get("model_args"), str) and d["model_args"] else {}
    d["collect"] = d["collect"].split(",") if isinstance(d.get("collect"), str) and d["collect"] else []
    d.pop("numerics_reference", None)
    return RunConfig(**d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    seen, out = set(), []
    for p in args.paths:
        for f, r in rows_of(p):
            cfg = config(r)
            key = (cfg.config_id, r.get("device_name"))
            if key in seen:
                continue
            seen.add(key)
            pred = memory_model.predict(cfg)
            err = pred["predicted_peak_bytes"] / r["peak_allocated_bytes"] - 1
            out.append((f.parent.name, r.get("device_name", ""), *[str(getattr(cfg, k)) for k in SHOW],
                        r["peak_allocated_bytes"] / 2**30, pred["predicted_peak_bytes"] / 2**30, err, pred["peak_phase"]))
    head = ("run", "device", *SHOW, "measured GiB", "predicted GiB", "error", "peak at")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---:" if h in ("measured GiB", "predicted GiB", "error", "batch_size", "grad_accum") else "---"
                             for h in head) + "|")
        for o in out:
            print("| " + " | ".join(list(o[:-4]) + [f"{o[-4]:.2f}", f"{o[-3]:.2f}", f"{o[-2]:+.1%}", o[-1]]) + " |")
    else:
        for o in out:
            print(" ".join(f"{x:>10}" for x in o[:-4]), f"{o[-4]:8.2f} {o[-3]:8.2f} {o[-2]:+7.1%} {o[-1]}")
    errs = sorted(abs(o[-2]) for o in out)
    print(f"\n{len(out)} configs; |error| median {errs[len(errs) // 2]:.1%}, max {errs[-1]:.1%}; "
          f"within 10%: {sum(e <= 0.10 for e in errs)} of {len(errs)}")


if __name__ == "__main__":
    main()
