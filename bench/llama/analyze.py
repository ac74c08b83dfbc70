"""The Llama reference on one GPU: throughput, MFU, step time, and the memory model's predicted peak
against the measured one, per config (medians over ok repeats).

    python bench/llama/analyze.py [RUN_DIR]   (default: the committed results/examples/llama-h200/run)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.plan import memory_model  # noqa: E402
from benchbench.spec.config import FIELDS, RunConfig  # noqa: E402

run = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES / "llama-h200" / "run"
rows = [json.loads(line) for line in (run / "rows.jsonl").read_text().splitlines() if line.strip()]
by_config: dict[str, list[dict]] = {}
for r in rows:
    by_config.setdefault(r["config_id"], []).append(r)


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2 if xs else None


table = []
for rs in by_config.values():
    r0 = rs[0]
    ok = [r for r in rs if r.get("status") == "ok"]
    settings = {k: r0[k] for k in FIELDS if k in r0 and r0[k] not in ("", None)}
    settings["model_args"] = json.loads(r0["model_args"]) if r0.get("model_args") else {}
    settings["collect"] = r0["collect"].split(",") if r0.get("collect") else []
    settings["numerics_reference"] = json.loads(r0["numerics_reference"]) if r0.get("numerics_reference") else {}
    cfg = RunConfig(**settings)
    name = f"{cfg.model_size} compile={cfg.compile} checkpointing={cfg.checkpointing}"
    if not ok:
        table.append([name, f"0 of {len(rs)} ok ({rs[0].get('status')}: {str(rs[0].get('reason'))[:60]})", "-", "-", "-", "-", "-"])
        continue
    peak = median([r.get("peak_allocated_bytes") for r in ok])
    pred = memory_model.predict(cfg)["predicted_peak_bytes"]
    step = median([r.get("step_time_s_median") for r in ok])
    table.append([name, cell(median([r["tokens_per_s"] for r in ok]), "{:,.0f}"), cell(median([r.get("mfu") for r in ok]), "{:.1%}"),
                  cell(step and step * 1e3, "{:.1f}"), cell(peak and peak / 2**30, "{:.1f}"), cell(pred and pred / 2**30, "{:.1f}"),
                  cell(peak and pred and pred / peak - 1, "{:+.1%}")])
if run.parent.parent == EXAMPLES:
    print(provenance(run.parent.name))
    print()
print(markdown(["config", "tokens/s", "MFU", "step ms", "peak GiB (measured)", "peak GiB (predicted)", "error"], table))
