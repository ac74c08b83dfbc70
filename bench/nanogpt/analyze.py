"""benchbench's GPT-2 124M against nanoGPT's own bench.py at its config (bench/nanogpt/run.sh): per mode (eager,
compiled) nanoGPT's time per iteration (its 20 timed steps after 10 burn-in steps, a host sync every step:
its loss.item()), benchbench's median step time, and their ratio (below 1: benchbench's step is shorter).

    python bench/nanogpt/analyze.py [RESULT_DIR]   (default nanogpt-h100, a folder under results/examples/)
"""

import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.store import results  # noqa: E402

ITER = re.compile(r"time per iteration: ([\d.]+)ms")


def nanogpt_ms(root: Path, mode: str) -> list[float]:
    out = []
    for log in sorted(root.glob(f"nanogpt-{mode}.*.log")):
        m = ITER.search(log.read_text(errors="replace"))
        if m:
            out.append(float(m.group(1)))
    return out


def main(d: str) -> None:
    root = EXAMPLES / d
    rows = [results.load(p) for p in sorted(root.glob("bench.*")) if (p / "rows.jsonl").exists()]
    import pandas as pd

    df = pd.concat(rows) if rows else pd.DataFrame()
    df = df[df["status"] == "ok"] if not df.empty else df
    print(provenance(d) + " Batch 12 x 1024, bf16 autocast, fused AdamW, synthetic tokens; nanoGPT: bench.py "
          "--real_data=False (its time per iteration); benchbench: bench/nanogpt/suite.yaml (its median step).\n")
    out = []
    for mode, compile_ in (("eager", "off"), ("compiled", "default")):
        ng = nanogpt_ms(root, mode)
        mine = df[df["compile"] == compile_]["step_time_s_median"] * 1000 if not df.empty else []
        a = statistics.mean(ng) if ng else None
        b = float(statistics.median(mine)) if len(mine) else None
        out.append([mode, cell(a, "{:.2f}"), len(ng), cell(b, "{:.2f}"), len(mine),
                    cell(b / a if a and b else None, "{:.3f}")])
    print(markdown(["mode", "nanoGPT ms/step", "runs", "benchbench ms/step", "repeats", "benchbench / nanoGPT"], out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "nanogpt-h100")
