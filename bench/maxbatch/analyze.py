"""The largest micro-batch per config (benchbench maxbatch) and how many probes the search took.

    python bench/maxbatch/analyze.py [RESULT_DIR]   (default maxbatch-h100)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "maxbatch-h100"
print(provenance(d))
for f in sorted((EXAMPLES / d).glob("maxbatch*.json")):
    data = json.loads(f.read_text())
    entries = data["configs"] if isinstance(data, dict) and "configs" in data else data
    rows = []
    for e in entries:
        rows.append([cell(e.get("label")), cell(e.get("max_batch")), cell(e.get("tokens_per_s"), "{:,.0f}"),
                     cell(e.get("probes")), cell(e.get("start_from"))])
    print(f"\n`{f.relative_to(EXAMPLES.parent.parent)}`\n")
    print(markdown(["config", "max batch", "tokens/s at it", "probes", "search started from"], rows, right={1, 2, 3}))
