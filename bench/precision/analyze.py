"""What precision, attention and checkpointing buy GPT-2 124M on one GPU: the summary of the committed
sweep (median over repeats), speedup against fp32 + SDPA + no checkpointing.

    python bench/precision/analyze.py [RESULT_DIR under results/examples, default report-example-h200]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import cell, load, markdown, provenance  # noqa: E402

from benchbench.analysis import summary  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "report-example-h200"
df = load(d)
base = df[(df["precision"] == "fp32") & (df["attention"] == "sdpa") & (df["checkpointing"] == "none")]
t = summary.summary(df, base["config_id"].iloc[0] if len(base) else None)
axes = t.attrs["axes"]
rows = []
for _, r in t.iterrows():
    rows.append([*(cell(r[a]) for a in axes), cell(r["tokens_per_s"], "{:,.0f}"),
                 cell(r["speedup"], "{:.2f}x"), cell(r["step_time_s_median"] * 1e3, "{:.1f}"),
                 cell(r["peak_memory_bytes"] / 2**30, "{:.1f}"), cell(r.get("mfu"), "{:.0%}"), r["status"]])
print(provenance(d))
print()
n = len(axes)
print(markdown([*axes, "tokens/s", "speedup", "step ms", "peak GiB", "MFU", "status"], rows, right=set(range(n, n + 5))))
