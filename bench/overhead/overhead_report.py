"""Per-row fixed cost of stored runs: wall_s - warmup_s - measured_s, and the median step time.

    python bench/overhead_report.py RUN_DIR [RUN_DIR ...]
"""

import sys

from benchbench.store import results

for d in sys.argv[1:]:
    df = results.load(d)
    df["overhead_s"] = df["wall_s"] - df["warmup_s"] - df["measured_s"]
    cols = ["attention", "checkpointing", "precision", "repeat", "status", "overhead_s", "setup_s", "step_time_s_median"]
    print(f"== {d}: overhead median {df['overhead_s'].median():.2f} s, max {df['overhead_s'].max():.2f} s")
    print(df[[c for c in cols if c in df]].to_string(index=False, float_format=lambda x: f"{x:.4f}"))
