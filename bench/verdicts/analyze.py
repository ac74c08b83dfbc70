"""Do identical runs get verdicts, and is a planted slowdown caught? compare's verdicts (tokens_per_s) of
the committed A/A pair and of A against the run with two planted MLP kernels, per config.

    python bench/verdicts/analyze.py [RESULT_DIR]   (default verdicts-h200)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, markdown, provenance  # noqa: E402

from benchbench.analysis import compare  # noqa: E402
from benchbench.store import results  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "verdicts-h200"
a, b, planted = (results.load(EXAMPLES / d / x) for x in ("a", "b", "planted"))
print(provenance(d))
print()
rows = []
for name, other in (("A/A (identical)", b), ("two planted kernels", planted)):
    t = compare.compare(a, other, "tokens_per_s")
    for _, r in t.iterrows():
        rows.append([name, r["label"], f"{int(r['a_n'])}/{int(r['b_n'])}",
                     f"{r['ratio']:.3f}x [{r['ratio_ci_low']:.3f}, {r['ratio_ci_high']:.3f}]", f"{r['floor']:.1%}",
                     r["verdict"]])
print(markdown(["comparison", "config", "repeats", "ratio [95% CI]", "noise floor", "verdict"], rows, right={2, 3, 4}))
