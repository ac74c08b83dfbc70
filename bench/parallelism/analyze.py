"""Tensor and pipeline parallelism on GPT-2 124M: throughput against one GPU, memory of every rank, and
for pipelines the bubble predicted by Narayanan et al. (2021) against the one measured (median over ranks).

    python bench/parallelism/analyze.py [RESULT_DIR under results/examples, or a path; default parallelism-h200]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import cell, load, markdown, provenance  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "parallelism-h200"
df = load(d)
df = df.drop_duplicates("config_id", keep="last") if "config_id" in df else df
one = df[(df["world_size"] == 1) & (df["status"] == "ok")]
base = one["tokens_per_s"].iloc[0] if len(one) and "tokens_per_s" in one else None


def gib(values):
    return "/".join(f"{v / 2**30:.1f}" for v in values) if isinstance(values, list) else cell(values, "{:.1f}")


rows = []
for _, r in df.iterrows():
    pp = r.get("pp_size", 1) > 1
    peak = r.get("peak_allocated_bytes_per_rank")
    if not isinstance(peak, list):
        peak = r.get("peak_allocated_bytes")
        peak = peak / 2**30 if isinstance(peak, (int, float)) else None
    tps, step = r.get("tokens_per_s"), r.get("step_time_s_median")
    rows.append([r["engine"], r["world_size"], r.get("tp_size", 1), r.get("pp_size", 1),
                 r.get("pp_schedule") if pp else "-", r["status"], cell(step * 1e3 if isinstance(step, float) else None, "{:.1f}"),
                 cell(tps, "{:,.0f}"), cell(tps / base if base and isinstance(tps, float) else None, "{:.2f}x"),
                 cell(r.get("pp_bubble_predicted") if pp else None, "{:.0%}"),
                 cell(r.get("pp_bubble_measured") if pp else None, "{:.0%}"),
                 "/".join(f"{b:.0%}" for b in r["pp_bubble_measured_per_rank"]) if pp and isinstance(
                     r.get("pp_bubble_measured_per_rank"), list) else "-",
                 gib(peak) if isinstance(peak, list) else cell(peak, "{:.1f}")])
print(provenance(d) if not Path(d).is_absolute() else f"Rows: `{d}`.")
print()
print(markdown(["engine", "GPUs", "TP", "PP", "schedule", "status", "step ms", "tokens/s", "vs 1 GPU",
                "bubble predicted", "bubble measured", "bubble per rank", "peak GiB per rank"], rows, right={1, 2, 3, 6, 7, 8, 9, 10}))
