"""How far each precision moves training from the fp32 reference (the numerics check): largest relative
loss deviation over the steps and the cosine of the two parameter updates, per committed config.

    python bench/numerics/analyze.py [RESULT_DIR]   (default numerics-h100)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import cell, load, markdown, provenance  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "numerics-h100"
df = load(d)
rows = [[r["precision"], r["attention"], r["checkpointing"], r["grad_accum"], cell(r.get("numerics_max_rel_loss_dev"), "{:.2g}"),
         cell(r.get("numerics_update_cosine"), "{:.5f}"), cell(r.get("numerics"))] for _, r in df.iterrows()]
print(provenance(d))
print()
print(markdown(["precision", "attention", "checkpointing", "grad_accum", "max rel. loss dev.", "update cosine", "verdict"],
               rows, right={3, 4, 5}))
