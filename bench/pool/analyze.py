"""Wall time of a suite run one GPU at a time against the GPU pool, and whether the pool changed any
number: compare's verdicts between the two runs.

    python bench/pool/analyze.py [SEQUENTIAL_DIR POOL_DIR]   (default: the committed pool-2xh200 rows)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, markdown, provenance  # noqa: E402

from benchbench.analysis import compare  # noqa: E402
from benchbench.store import results  # noqa: E402

if len(sys.argv) > 2:
    seq, pool = Path(sys.argv[1]), Path(sys.argv[2])
else:
    seq, pool = EXAMPLES / "pool-2xh200" / "sequential", EXAMPLES / "pool-2xh200" / "pool"
    print(provenance("pool-2xh200"))
    print()
rows = []
for name, d in (("--gpus 1", seq), ("--gpus all", pool)):
    run = json.loads((d / "run.json").read_text())
    df = results.load(d)
    ok = df[df["status"] == "ok"]
    rows.append([name, len(df), f"{run.get('wall_s', float('nan')):.0f}", f"{ok['measured_s'].sum():.0f}",
                 f"{run.get('gpu_busy_s', float('nan')):.0f}"])
print(markdown(["run", "rows", "wall s", "measured s", "GPU-busy s"], rows))
t = compare.compare(results.load(seq), results.load(pool), "tokens_per_s")
counts = t["verdict"].value_counts().to_dict()
print()
print("compare --gpus 1 vs --gpus all (tokens_per_s): " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
