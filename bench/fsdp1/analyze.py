"""The FSDP2-at-one-GPU probe's variants as a table (results/examples/fsdp1-h200/probe-*.jsonl).

    python bench/fsdp1/analyze.py
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown  # noqa: E402

WHAT = {
    "torch": "plain loop, bf16 autocast", "ddp": "DDP, bf16 autocast", "fsdp": "FSDP2 per block, bf16 policy",
    "fsdp-noreshard": "FSDP2 per block, reshard_after_forward false", "fsdp-root": "FSDP2, one unit (the root only)",
    "fsdp-foreach": "FSDP2 per block, foreach AdamW", "fsdp-fp32ac": "FSDP2 per block, fp32 parameters + autocast",
    "torch-b32": "plain loop, 32 x 1024", "fsdp-b32": "FSDP2 per block, 32 x 1024",
    "torch-compiled": "plain loop, whole model compiled", "fsdp-compiled-blocks": "FSDP2 per block, each block .compile()d in place",
}
d = EXAMPLES / "fsdp1-h200"
info = json.loads((d / "provenance.json").read_text())
print(f"Measured on {info['device']}, {info['date']}, commit {info['commit']}: `results/examples/fsdp1-h200/`.\n")
out = []
for f in sorted(d.glob("probe-*.jsonl")):
    for line in f.read_text().splitlines():
        r = json.loads(line)
        out.append([f.stem, r["variant"], WHAT.get(r["variant"], "-"), str(r["batch"]), cell(r["step_ms_median"], "{:.1f}"),
                    cell(r["tokens_per_s"], "{:,.0f}"), cell(r["peak_gib"], "{:.1f}")])
print(markdown(["process", "variant", "what", "batch", "step ms (median of 20)", "tokens/s", "peak GiB"], out,
               right={3, 4, 5, 6}))
