"""The harness's training step against a hand-written loop (bench/overhead/bare_vs_harness.py):
median over A/B rounds of each side's step time, throughput and MFU, and harness/bare.

    python bench/overhead/analyze.py [DIR]   (default: the committed overhead-h200 results)
"""

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, markdown, provenance  # noqa: E402

d = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES / "overhead-h200"
if len(sys.argv) == 1:
    print(provenance("overhead-h200"))
    print()
rows = []
for mode in ("eager", "compile"):
    f = d / f"bare_vs_harness_{mode}.json"
    if not f.exists():
        continue
    data = json.loads(f.read_text())
    for side in ("bare", "harness"):
        runs = [r for r in data["runs"] if r["side"] == side]
        step_ms = statistics.median(r["step_s_mean"] for r in runs) * 1e3
        tps = statistics.median(r["tokens_per_s"] for r in runs)
        mfu = statistics.median(r["tflops_per_s"] for r in runs) / 989
        rows.append([mode, side, f"{step_ms:.1f}", f"{tps:,.0f}", f"{mfu:.1%}", len(runs)])
    rows.append([mode, "harness / bare", "", f"{data['ratio_median']:.3f}", "", len(data["ratios"])])
print(markdown(["mode", "side", "ms/step", "tokens/s", "MFU (/989 TFLOP/s)", "rounds"], rows, right={2, 3, 4, 5}))
