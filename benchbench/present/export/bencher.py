"""--format bencher: Bencher Metric Format (BMF) JSON, what `bencher run --adapter json` reads.

    {benchmark_name: {measure_name: {"value": v, "lower_value": lo, "upper_value": hi}}}

One benchmark per config that ran ok ("<suite>[<varying settings>]"); one measure per metric with a
value that the metric catalogue exports to Bencher (spec/catalogue.py: export=("bencher", ...)), named as
benchbench names it (units in the name). The value is compare.summarize()'s (the median) and the bounds
its 95% confidence interval (deterministic metrics: min..max).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from benchbench.analysis import compare, cost
from benchbench.present.export.common import ExportError, Format, configs
from benchbench.spec import catalogue
from benchbench.store import results


def bmf(df: pd.DataFrame, run: dict) -> dict:
    suite = run.get("suite", "run")
    out = {}
    df = cost.with_cost(df)  # usd_per_mtoken where the rows carry the suite's price
    groups = dict(tuple(df.groupby("config_id", sort=False)))
    for c in configs(df):
        ok = groups[c.config_id][groups[c.config_id]["status"] == "ok"]
        if ok.empty:  # Bencher has no "failed" value: a config that did not run is left out
            continue
        measures = {}
        for m in catalogue.exported_by("bencher"):  # the catalogue's Bencher measures
            if m != compare.STEP_TIME and (m not in ok or not ok[m].notna().any()):
                continue
            samples, _ = compare.samples(ok, m)
            if not samples:
                continue
            v, lo, hi, _n = compare.summarize(samples, m)
            v = c.metrics.get(m, v)  # cost and MFU follow from the throughput value (analysis/value.py)
            if math.isfinite(v):
                measures[m] = {"value": v, **({"lower_value": lo, "upper_value": hi}
                                              if math.isfinite(lo) and math.isfinite(hi) else {})}
        if measures:
            out[f"{suite}[{c.label.replace(', ', ',')}]"] = measures
    if not out:
        raise ExportError("no config ran ok: a Bencher report has nothing to hold")
    return out


def write(df: pd.DataFrame, run: dict, env: dict, out: Path, **_) -> str:
    data = bmf(df, run)
    out.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(out, json.dumps(data, indent=2) + "\n")
    return f"bencher: {len(data)} benchmarks -> {out} (bencher run --adapter json --file {out})"


FORMAT = Format(write, "bencher.json", None)
