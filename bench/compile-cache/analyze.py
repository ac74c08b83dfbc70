"""Shared compiler caches between repeats: each repeat's worker wall time, compile_s and whether its
compile was cold or warm, shared against cold.

    python bench/compile-cache/analyze.py [SHARED_DIR COLD_DIR]   (default: the committed compile-cache-h200 rows)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.store import results  # noqa: E402

if len(sys.argv) > 2:
    dirs = {"shared": Path(sys.argv[1]), "cold": Path(sys.argv[2])}
else:
    dirs = {k: EXAMPLES / "compile-cache-h200" / k for k in ("shared", "cold")}
    print(provenance("compile-cache-h200"))
    print()
rows = []
for name, d in dirs.items():
    for _, r in results.load(d).sort_values("repeat").iterrows():
        rows.append([name, r["repeat"], r.get("compile_cache", "-"), cell(r.get("wall_s"), "{:.1f}"),
                     cell(r.get("compile_s"), "{:.1f}"), cell(r.get("tokens_per_s"), "{:,.0f}"), r["status"]])
print(markdown(["caches", "repeat", "compile", "worker wall s", "compile_s", "tokens/s", "status"], rows,
               right={1, 3, 4, 5}))
