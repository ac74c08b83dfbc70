"""How close the memory model's predicted peak is to the measured allocator peak, per committed result
folder (every ok GPT row on a GPU), and every config off by more than 10%.

    python bench/memory-model/analyze.py [RESULT_DIR ...]   (default: every folder with GPU rows)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXAMPLES, markdown, provenance  # noqa: E402
from memory_model_check import SHOW, config, rows_of  # noqa: E402

from benchbench.plan import memory_model  # noqa: E402

dirs = sys.argv[1:] or ["memmodel-h100", "memmodel-2xh200", "zero-h100", "zero-2xh200", "zero-offload-2xh200",
                        "maxbatch-h100", "numerics-h100", "report-example-h200"]
per_dir, misses = [], []
for d in dirs:
    seen, errs = set(), []
    for _, r in rows_of(EXAMPLES / d):
        cfg = config(r)
        if cfg.config_id in seen:
            continue
        seen.add(cfg.config_id)
        err = memory_model.predict(cfg)["predicted_peak_bytes"] / r["peak_allocated_bytes"] - 1
        errs.append(abs(err))
        if abs(err) > 0.10:
            misses.append([d, *(str(getattr(cfg, k)) for k in SHOW), f"{r['peak_allocated_bytes'] / 2**30:.2f}", f"{err:+.1%}"])
    if errs:
        errs.sort()
        per_dir.append([f"`{d}`", len(errs), f"{errs[len(errs) // 2]:.1%}", f"{errs[-1]:.1%}",
                        f"{sum(e <= 0.10 for e in errs)} of {len(errs)}"])
print(provenance(*[d for d in dirs if (EXAMPLES / d).exists()]))
print()
print(markdown(["rows", "configs", "median abs error", "max abs error", "within 10%"], per_dir))
if misses:
    print()
    print(markdown(["rows", *SHOW, "measured GiB", "error"], misses, right={len(SHOW) + 1, len(SHOW) + 2}))
