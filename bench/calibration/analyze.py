"""The calibration tables of docs/gate.md, from the committed output of compare_gate.py and fit.py.

    python bench/calibration/analyze.py noise|aa|power|recommend
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, markdown, provenance  # noqa: E402

D = "calibration-cpu"
what = sys.argv[1] if len(sys.argv) > 1 else "aa"
data = json.loads((EXAMPLES / D / "compare_gate.json").read_text())
pct = "{:.1%}".format


def share(x: float, sims: int) -> str:
    return f"{x:.0%} ({round(x * sims)}/{sims})"


print(provenance(D))
print()
if what == "noise":
    fit = json.loads((EXAMPLES / D / "fit.json").read_text())
    rows = [[name, pct(n["between_runs"]), pct(n["between_repeats"]), f"{n['slow_rate']:.1%} at {n['slow_size']:.0%}",
             pct(n["steps_noise"]), pct(n["mode_gap"]) if n["mode_gap"] else "-"] for name, n in data["noise"].items()]
    print(markdown(["noise model", "between runs (SD)", "between repeats (SD)", "slow repeats", "steps (SD)",
                    "two modes apart"], rows))
    c = fit["counts"]
    print()
    print(f"Fitted by `bench/calibration/fit.py` from {c['repeats']} repeats of {c['configs']} configs in {c['runs']} "
          f"committed GPU runs ({c['slow_repeats']} slow repeats); between runs from the {c['aa_configs']} configs of "
          f"the identical sweeps `results/examples/verdicts-h200/a` and `b`.")
elif what == "aa":
    rows = []
    for key, r in data["aa"].items():
        name, repeats = key.split("|")
        rows.append([name, repeats, pct(r["false_verdicts_per_config"]), share(r["any_false_10"], r["sims"]),
                     share(r["any_false_50"], r["sims"]), share(r["any_false_50x2_metrics"], r["sims"]),
                     share(r["gate_false_fail_50"], r["sims"]), f"{r['two_modes_flagged']:.0%}",
                     f"{r['undecided']:.0%}"])
    print(markdown(["noise model", "repeats", "false verdicts per config", "any false: 10 configs", "50 configs",
                    "50 configs x 2 metrics", "gate -5% false FAIL (50 configs)", "`two modes`", "`undecided`"], rows,
                   right={1, 2, 3, 4, 5, 6, 7, 8}))
elif what == "power":
    rows = []
    for repeats, by in data["power"].items():
        for x, r in by.items():
            rows.append([repeats, x, f"{r['found']:.0%}", share(r["any_false_others"], r["sims"])])
    print(markdown(["repeats", "slowdown (5 of 50 configs)", "found `slower`", "any false verdict on the other 45"],
                   rows, right={0, 1, 2, 3}))
elif what == "recommend":
    rows = [[repeats, f"{r['best']:.0%}", f"{r['no_pick']:.0%}", f"{r['other']:.0%}", f"{r['other_5pct_slower']:.0%}",
             r["sims"]] for repeats, r in data["recommend"].items()]
    print(markdown(["repeats", "picks the best", "no pick yet", "picks another", "picks one 5%+ slower", "runs"], rows,
                   right={0, 1, 2, 3, 4, 5}))
