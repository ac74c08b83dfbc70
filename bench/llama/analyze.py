"""fp8 against bf16 on Llama 1B and 3B (speedup with compare's verdict, MFU against the bf16 and the fp8
peak, numerics against bf16, predicted and measured peak memory), and DDP / FSDP2 against the plain loop
at one GPU (GPT-2 124M).

    python bench/llama/analyze.py [RESULT_DIR]   (default llama-h200; a folder under results/examples/ or a
                                                  path, with the run.sh folders 1b/, 3b/, engines/)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.analysis import compare  # noqa: E402
from benchbench.store import results  # noqa: E402

d = sys.argv[1] if len(sys.argv) > 1 else "llama-h200"
root = EXAMPLES / d  # a path given whole stays itself


def rows(name):
    p = root / name
    return results.load(p) if (p / "rows.jsonl").exists() else None


def median(g, col):
    return g[col].median() if col in g and g[col].notna().any() else None


def verdict(a, b, metric="tokens_per_s"):
    """compare's ratio b/a and verdict for two configs' rows (compare pairs rows by config_id: b takes a's)."""
    if a.empty or b.empty:
        return None, "-"  # a side with no ok row: its status says why
    t = compare.compare(a, b.assign(config_id=a["config_id"].iloc[0]), metric).iloc[0]
    return t["ratio"], t["verdict"]


def fp8_table(df, by):
    """One line per config: against the bf16 row of the same `by` settings (compile)."""
    out = []
    for _cid, g in df.groupby("config_id", sort=False):
        r = g.iloc[0]
        ok = g[g["status"] == "ok"]
        same = (df["precision"] == "bf16") & (df[by] == r[by]) if by else df["precision"] == "bf16"
        base = df[same & (df["status"] == "ok")]
        ratio, why = verdict(base, ok) if r["precision"] == "fp8" else (None, "")
        recipe = r["fp8_recipe"] if r["precision"] == "fp8" else "-"
        status = r["status"] if len(ok) == 0 else "ok"
        reason = "" if len(ok) else str(r.get("reason", ""))[:80]
        out.append([r["model_size"], r["precision"], recipe, *([r[by]] if by else []),
                    cell(median(ok, "tokens_per_s"), "{:,.0f}"), cell(ratio, "{:.2f}x"), why or "-",
                    cell(median(ok, "mfu"), "{:.1%}"), cell(median(ok, "mfu_fp8"), "{:.1%}"),
                    cell(median(ok, "float8_linears"), "{:.0f}"), numerics(ok), mem(ok), f"{len(ok)}/{len(g)}",
                    status + (f": {reason}" if reason else "")])
    head = ["size", "precision", "recipe", *([by] if by else []), "tokens/s", "vs bf16", "verdict", "MFU (bf16 peak)",
            "MFU (fp8 peak)", "fp8 linears", "numerics vs bf16", "peak GiB measured / predicted", "repeats", "status"]
    return markdown(head, out, right=set(range(4 if by else 3, len(head) - 3)))


def numerics(ok):
    if "numerics" not in ok or ok["numerics"].isna().all():
        return "-"
    v = ok["numerics"].dropna()
    dev = median(ok, "numerics_max_rel_loss_dev")
    return f"{v.iloc[0]} (loss dev {dev:.2g})" if dev is not None else v.iloc[0]


def mem(ok):
    m, p = median(ok, "peak_allocated_bytes"), median(ok, "predicted_peak_bytes")
    gib = [cell(None) if v is None else f"{v / 2**30:.1f}" for v in (m, p)]
    return f"{gib[0]} / {gib[1]}"


print(provenance(d))
for name, by, title in (("1b", "compile", "Llama 1B, 4 x 2048 tokens"), ("eager", None, "Llama 1B, eager, 4 x 2048 tokens"),
                        ("compiled", None, "Llama 1B, compiled, 4 x 2048 tokens"),
                        ("3b", None, "Llama 3B, compiled, 4 x 2048 tokens")):
    df = rows(name)
    if df is not None and not df.empty:
        print(f"\n### {title}\n")
        print(fp8_table(df, by))

eng = rows("engines")
if eng is not None and not eng.empty:
    shape = "16 x 1024 tokens" if "batch_size" not in eng or eng["batch_size"].nunique() == 1 else "batch x 1024 tokens"
    print(f"\n### Engines at one GPU (GPT-2 124M, bf16, {shape})\n")
    out = []
    keys = [k for k in ("batch_size", "compile") if k in eng]
    for _key, g0 in eng.groupby(keys, sort=False) if keys else [((), eng)]:
        ok0 = g0[g0["status"] == "ok"]
        torch_rows = eng[(eng["engine"] == "torch") & (eng["status"] == "ok") & (eng["batch_size"] == 16)
                         & (eng["compile"] == "off")] if keys else ok0[ok0["engine"] == "torch"]
        ddp_rows = ok0[ok0["engine"] == "ddp"]
        for engine, g in g0.groupby("engine", sort=False):
            ok = g[g["status"] == "ok"]
            vs_torch = verdict(torch_rows, ok) if engine != "torch" else (None, "")
            vs_ddp = verdict(ddp_rows, ok) if engine == "fsdp" else (None, "")
            policy = ok["fsdp_mp_policy"].dropna().iloc[0] if "fsdp_mp_policy" in ok and ok["fsdp_mp_policy"].notna().any() else "-"
            busy = median(ok, "profile_busy_frac")
            out.append([engine, *(str(g[k].iloc[0]) for k in keys), policy, cell(median(ok, "tokens_per_s"), "{:,.0f}"),
                        f"{cell(vs_torch[0], '{:.3f}x')} {vs_torch[1]}".strip(), f"{cell(vs_ddp[0], '{:.3f}x')} {vs_ddp[1]}".strip(),
                        cell(median(ok, "mfu"), "{:.1%}"), cell(busy, "{:.0%}"), mem(ok), f"{len(ok)}/{len(g)}"])
    n = len(keys)
    print(markdown(["engine", *keys, "FSDP policy", "tokens/s", "vs torch (16, eager)", "fsdp/ddp", "MFU",
                    "GPU busy (profiler)", "peak GiB measured / predicted", "repeats"], out,
                   right=set(range(2 + n, 9 + n))))
