"""measured_steps: auto against a fixed 30 steps: steps measured per config, whether the target was met,
and compare's verdict between the two (the same configs: auto must not change the numbers).

    python bench/auto-steps/analyze.py [FIXED_DIR AUTO_DIR]   (default: the committed auto-steps-h200 rows)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.analysis import compare  # noqa: E402
from benchbench.store import results  # noqa: E402

if len(sys.argv) > 2:
    fixed, auto = Path(sys.argv[1]), Path(sys.argv[2])
else:
    fixed, auto = EXAMPLES / "auto-steps-h200" / "fixed", EXAMPLES / "auto-steps-h200" / "auto"
    print(provenance("auto-steps-h200"))
    print()
a, b = results.load(fixed), results.load(auto)
a["key"] = a["precision"] + "/" + a["attention"] + "/" + a["checkpointing"]
b["key"] = b["precision"] + "/" + b["attention"] + "/" + b["checkpointing"]
b = b.assign(config_id=b["key"].map(dict(zip(a["key"], a["config_id"]))))  # auto changes the id: join on settings
t = compare.compare(a, b, "tokens_per_s").set_index("config_id")
rows = []
for key, g in b.groupby("key", sort=False):
    cid = g["config_id"].iloc[0]
    steps_auto = int(g["step_time_s_n"].fillna(0).sum())
    steps_fixed = int(a.loc[a["key"] == key, "step_time_s_n"].fillna(0).sum())
    met = int(g["target_met"].fillna(False).sum()) if "target_met" in g else 0
    r = t.loc[cid]
    rows.append([key, steps_fixed, steps_auto, f"{met}/{len(g)}", cell(r["ratio"], "{:.3f}x"), r["verdict"]])
print(markdown(["precision/attention/checkpointing", "steps (fixed 30)", "steps (auto)", "target met", "auto / fixed",
                "verdict"], rows, right={1, 2, 3, 4}))
print()
print(f"measured steps in all: fixed {int(a['step_time_s_n'].fillna(0).sum())}, auto {int(b['step_time_s_n'].fillna(0).sum())}")
