"""GPT-2 124M reference configs on one GPU: every precision with SDPA, eager attention, full
checkpointing and torch.compile, each against bf16 + SDPA (median over repeats).

    python bench/reference/analyze.py [RESULT_DIR]   (default reference-h200)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, load, markdown, provenance  # noqa: E402

from benchbench.analysis import summary  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "reference-h200"
run = json.loads((EXAMPLES / d / "run" / "run.json").read_text())
t = summary.summary(load(f"{d}/run"), run.get("baseline_config_id"))
axes = t.attrs["axes"]
rows = [[*(cell(r[a]) for a in axes), cell(r["tokens_per_s"], "{:,.0f}"), cell(r["speedup"], "{:.2f}x"),
         cell(r["step_time_s_median"] * 1e3, "{:.1f}"), cell(r["peak_memory_bytes"] / 2**30, "{:.1f}"),
         cell(r.get("mfu"), "{:.0%}"), cell(r.get("energy_j_per_step"), "{:.1f}"), r["repeats_ok"]] for _, r in t.iterrows()]
print(provenance(d))
print()
n = len(axes)
print(markdown([*axes, "tokens/s", "speedup", "step ms", "peak GiB", "MFU", "J/step", "repeats"], rows,
               right=set(range(n, n + 7))))
