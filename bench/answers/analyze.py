"""What recommend picks for GPT-2 124M on one GPU under a 40 GiB and an 80 GiB memory budget (and
without one), from the committed rows: the ranking with ties the repeats cannot separate, the Pareto
front, the cost columns, and why the pick wins against fp32 + eager attention.

    python bench/answers/analyze.py [RUN_DIR]   (default: the committed answers-h200/run rows)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, provenance  # noqa: E402

from benchbench.analysis import recommend as rec  # noqa: E402
from benchbench.basics.units import GIB  # noqa: E402
from benchbench.present import recommend as show  # noqa: E402
from benchbench.store import baseline  # noqa: E402

if len(sys.argv) > 1:
    run_dir = Path(sys.argv[1])
else:
    run_dir = EXAMPLES / "answers-h200" / "run"
    print(provenance("answers-h200"))
df, run, _ = baseline.read_run(run_dir)
for budget in (None, 80, 40):
    print(f"\n#### {'No memory budget' if budget is None else f'Memory budget {budget} GiB'}\n")
    try:
        r = rec.recommend(df, "tokens_per_s", baseline_id=run.get("baseline_config_id"),
                          memory_budget_bytes=None if budget is None else budget * GIB)
        print(show.markdown(r).split("\n", 2)[2].rstrip("\n"))  # without its own heading
    except rec.RecommendError as e:
        print(f"Nothing qualifies: {e}")
