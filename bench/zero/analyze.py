"""What each ZeRO stage holds per GPU, measured by role, against the ZeRO paper's model-state figure, and
its step time: the committed ZeRO sweeps.

    python bench/zero/analyze.py [RESULT_DIR ...]   (default zero-h100 zero-2xh200 zero-offload-2xh200)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cell, load, markdown, provenance  # noqa: E402
from zero_report import table  # noqa: E402

dirs = sys.argv[1:] or ["zero-h100", "zero-2xh200", "zero-offload-2xh200"]
print(provenance(*dirs))
for d in dirs:
    t = table(load(d).drop_duplicates("config_id"))
    rows = [[r["model"], r["engine"], r["stage"], r["ws"], r["variant"], r["status"], cell(r["step_ms"], "{:.1f}"),
             cell(r["peak_GiB"], "{:.2f}"), cell(r["model_states"], "{:.2f}"), cell(r["paper"], "{:.2f}"),
             cell(r["states/paper"], "{:.2f}")] for _, r in t.iterrows()]
    print(f"\n`{d}`\n")
    print(markdown(["model", "engine", "ZeRO", "GPUs", "variant", "status", "step ms", "peak GiB", "model states GiB",
                    "paper GiB", "states/paper"], rows, right={3, 6, 7, 8, 9, 10}))
