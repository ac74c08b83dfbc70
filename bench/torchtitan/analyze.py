"""benchbench's llama against torchtitan's own trainer at the same settings, one GPU: per config torchtitan's
tokens/s (per run the median of its logged windows after step 10; the mean over its runs), benchbench's (the
median over its repeats) and their ratio; then benchbench's Llama 1B eager before and after its eager changes, with compare's verdict.

    python bench/torchtitan/analyze.py [RESULT_DIR]   (default torchtitan-h100, a folder under results/examples/
                                                       with run.sh's folders titan/, bench/<name>/, ab/{old,new}/)
"""

import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402
from configs import CONFIGS, TITAN_LOG_FREQ  # noqa: E402

from benchbench.analysis import compare  # noqa: E402
from benchbench.store import results  # noqa: E402

AFTER_STEP = 10
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LINE = re.compile(r"step:\s*(\d+).*?tps:\s*([\d,]+)")


def titan_windows(log: str) -> list[tuple[int, float]]:
    """(step, tokens/s) of every window torchtitan logged."""
    out = []
    for line in ANSI.sub("", log).splitlines():
        m = LINE.search(line)
        if m:
            out.append((int(m.group(1)), float(m.group(2).replace(",", ""))))
    return out


def titan_tokens_per_s(log: str) -> float | None:
    """The median of the windows that end after step 10 (compile and warm-up are in the earlier ones)."""
    tps = [t for step, t in titan_windows(log) if step > AFTER_STEP]
    return statistics.median(tps) if tps else None


def titan_logs(root: Path, name: str) -> list[Path]:
    """torchtitan's logs of a config: NAME.log, or NAME.1.log, NAME.2.log, ... (run.sh's abba parts)."""
    one = root / "titan" / f"{name}.log"
    return [one] if one.exists() else sorted((root / "titan").glob(f"{name}.[0-9].log"))


def per_repeat(df) -> str:
    if df is None or df.empty or "tokens_per_s" not in df:
        return ""
    return ", ".join(cell(v, "{:,.0f}") for v in df[df["status"] == "ok"]["tokens_per_s"])


def rows(root: Path, name: str):
    p = root / name
    return results.load(p) if (p / "rows.jsonl").exists() else None


def ok_median(df, col="tokens_per_s"):
    if df is None or df.empty or col not in df:
        return None, 0
    ok = df[df["status"] == "ok"]
    return (ok[col].median() if len(ok) else None), len(ok)


def why_not(df) -> str:
    if df is None or df.empty:
        return "benchbench: no row"
    bad = df[df["status"] != "ok"]
    return f"{bad['status'].iloc[0]}: {str(bad['reason'].iloc[0])[:80]}" if len(bad) else ""


def main(d: str) -> None:
    root = EXAMPLES / d
    print(provenance(d) + f" torchtitan's tokens/s: per run the median of its {TITAN_LOG_FREQ}-step windows after "
          f"step {AFTER_STEP}, the mean over its runs; benchbench's: the median over its repeats.\n")
    out = []
    for name, (_size, batch, _compiled, _fp8) in CONFIGS.items():
        logs = titan_logs(root, name)
        per_run = [titan_tokens_per_s(p.read_text(errors="replace")) for p in logs]
        got = [t for t in per_run if t is not None]
        tt = statistics.mean(got) if got else None
        df = rows(root, f"bench/{name}")
        bb, n = ok_median(df)
        if tt is None and bb is None:
            continue
        ratio = bb / tt if tt and bb else None
        note = "" if tt else ("torchtitan: no window after step 10" if logs else "torchtitan: not run")
        note = note or why_not(df)
        runs = ", ".join(cell(t, "{:,.0f}") for t in per_run)
        out.append([name, f"{batch} x 2048", cell(tt, "{:,.0f}"), runs if len(per_run) > 1 else "", cell(bb, "{:,.0f}"),
                    per_repeat(df), cell(ratio, "{:.3f}"), note])
    print(markdown(["config", "batch", "torchtitan tok/s", "its runs", "benchbench tok/s", "its repeats",
                    "benchbench / torchtitan", "note"], out, right={2, 3, 4, 5, 6}))
    old, new = rows(root, "ab/old"), rows(root, "ab/new")
    if old is not None and new is not None:
        o, n = old[old["status"] == "ok"], new[new["status"] == "ok"]
        if len(o) and len(n):
            t = compare.compare(o, n.assign(config_id=o["config_id"].iloc[0]), "tokens_per_s").iloc[0]
            print("\nbenchbench's Llama 1B eager (4 x 2048, bf16), the previous model code against this one:\n")
            print(markdown(["code", "tokens/s (median)", "repeats", "ratio", "verdict"], [
                ["previous", cell(o["tokens_per_s"].median(), "{:,.0f}"), len(o), "", ""],
                ["this", cell(n["tokens_per_s"].median(), "{:,.0f}"), len(n), cell(t["ratio"], "{:.3f}x"), t["verdict"]],
            ], right={1, 2, 3}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "torchtitan-h100")
