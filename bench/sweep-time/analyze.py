"""Where a sweep's wall time goes: suites/amp.yaml on one GPU with the previous code and with this one
(bench/sweep-time/run.sh). Per run of the suite: its wall time (the sweep's, and the whole command's), the
measured steps' share of it, and the mean fixed costs of one worker; then each precision's tokens/s, the
previous code's against this one's (compare's verdict: the speed measured must not move).

    python bench/sweep-time/analyze.py [RESULT_DIR]   (default sweep-time-h100, a folder under results/examples/
                                                       with run.sh's folders old.<k>/, new.<k>/)
"""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.analysis import compare  # noqa: E402
from benchbench.store import results  # noqa: E402

SIDES = {"old": "previous (spare per run, warmup_steps: 5)", "new": "this (zygote, warmup_steps: auto)"}


def sides(root: Path) -> list[Path]:
    return sorted((d for d in root.iterdir() if d.is_dir() and d.name.split(".")[0] in SIDES and (d / "rows.jsonl").exists()),
                  key=lambda d: int(d.name.split(".")[1]))


def mean(df, col):
    return df[col].mean() if col in df and df[col].notna().any() else None


def warmup_steps(df):
    """Mean warm-up steps taken (the previous code's rows name only the fixed count they were given)."""
    got = mean(df, "warmup_steps_taken")
    return got if got is not None else pd.to_numeric(df["warmup_steps"], errors="coerce").mean()


def wall_table(dirs: list[Path]) -> str:
    out = []
    for d in dirs:
        run = json.loads((d / "run.json").read_text())
        cmd = json.loads((d / "command.json").read_text()) if (d / "command.json").exists() else {}
        df = results.load(d)
        gap = (df["wall_s"] - df["worker_s"]).clip(lower=0) if "worker_s" in df else None
        wall, measured, command = run.get("wall_s"), run.get("measured_s"), cmd.get("command_wall_s")
        out.append([f"{d.name.split('.')[0]} ({d.name})", len(df), cell(wall, "{:.1f}"), cell(command, "{:.1f}"),
                    cell(measured, "{:.1f}"), cell(measured / wall if wall else None, "{:.0%}"),
                    cell(measured / command if command else None, "{:.0%}"),
                    cell(mean(df, "import_s"), "{:.2f}"), cell(mean(df, "setup_s"), "{:.2f}"),
                    cell(mean(df, "warmup_s"), "{:.2f}"), cell(warmup_steps(df), "{:.1f}"),
                    cell(mean(df, "finish_s"), "{:.2f}"), cell(gap.mean() if gap is not None else None, "{:.2f}")])
    return markdown(["code (run)", "runs", "sweep wall s", "command wall s", "measured s", "measured / sweep",
                     "measured / command", "import s", "setup s", "warm-up s", "warm-up steps", "finish s",
                     "outside the worker s"], out, right=set(range(1, 13)))


def speed_table(dirs: list[Path]) -> str:
    """Each precision, all old rows against all new ones (config ids differ by warmup_steps: matched by
    precision)."""
    by_side = {}
    for d in dirs:
        df = results.load(d)
        by_side.setdefault(d.name.split(".")[0], []).append(df[df["status"] == "ok"])
    if set(by_side) != {"old", "new"}:
        return ""
    old, new = pd.concat(by_side["old"]), pd.concat(by_side["new"])
    ids = dict(zip(old["precision"], old["config_id"]))
    t = compare.compare(old, new.assign(config_id=new["precision"].map(ids)), "tokens_per_s")
    names = {v: k for k, v in ids.items()}
    rows = [[names[r["config_id"]], cell(r["a_value"], "{:,.0f}"), int(r["a_n"]), cell(r["b_value"], "{:,.0f}"), int(r["b_n"]),
             cell(r["ratio"], "{:.3f}x"), r["verdict"]] for _, r in t.iterrows()]
    return markdown(["precision", "previous tok/s", "repeats", "this tok/s", "repeats", "ratio", "verdict"], rows,
                    right={1, 2, 3, 4, 5})


def main(d: str) -> None:
    root = EXAMPLES / d
    dirs = sides(root)
    print(provenance(d) + " Codes: " + "; ".join(f"{k}: {v}" for k, v in SIDES.items()) + ". Sweep wall: the "
          "sweep's own clock (run.json, as the run's last line prints it); command wall: the whole `benchbench run` "
          "command, start and end included. Fixed costs: the mean over a run's workers; outside the worker: a row's "
          "wall_s (the parent's view, start to exit) less its worker_s.\n")
    print(wall_table(dirs))
    speed = speed_table(dirs)
    if speed:
        print("\nThe speed measured, previous code against this one (benchbench compare, tokens/s):\n")
        print(speed)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sweep-time-h100")
