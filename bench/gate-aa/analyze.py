"""How the CI gate behaved on the CI machine, quiet and loaded: PASS / FAIL / INCONCLUSIVE counts of the
A/A gates and of the 2x slowdown, from the committed summaries of bench/gate-aa/gate_aa.py.

    python bench/gate-aa/analyze.py [RESULT_DIR]   (default gate-aa-cpu)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, markdown, provenance  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "gate-aa-cpu"
print(provenance(d))
print()
rows = []
for f in sorted((EXAMPLES / d).glob("*/summary.json")):
    s = json.loads(f.read_text())
    machine = f"{s.get('competing_loops', 0)} busy loops" if s.get("competing_loops") else "no other load"
    for key, label in (("aa", "A/A (unchanged)"), ("slowdown x2", "2x slower step")):
        r = s.get(key)
        if r:
            ratio = r.get("tokens_per_s:-30%", {}).get("ratio", {})
            rows.append([f.parent.name, machine, label, r["gates"], r["passed"], r["failed"], r["inconclusive"],
                         f"{ratio.get('min', float('nan')):.3f} - {ratio.get('max', float('nan')):.3f}"])
print(markdown(["run", "machine", "what", "gates", "PASS", "FAIL", "INCONCLUSIVE", "tokens/s run / baseline"], rows,
               right={3, 4, 5, 6}))
