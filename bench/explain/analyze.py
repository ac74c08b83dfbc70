"""docs/explain.md's tables, from the rows (and first traces) bench/explain/run.sh wrote: a planted extra
elementwise kernel, FSDP2 against DDP at one GPU, fp8 eager against bf16 eager and Llama 1B eager against
compiled, each explained by benchbench's explain analysis; then every config's bound and roofline point.

    python bench/explain/analyze.py [RESULT_DIR]   (default: the newest results/examples/explain-*/; a folder
                                                    name under results/examples/ or a path, with gpt/, planted/
                                                    and llama/ inside)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import EXAMPLES, cell, markdown, provenance  # noqa: E402

from benchbench.analysis import bound, explain  # noqa: E402
from benchbench.basics.device import peak_gb_per_s  # noqa: E402
from benchbench.models import gpt, llama  # noqa: E402
from benchbench.present import explain as present  # noqa: E402
from benchbench.store import results  # noqa: E402

found = sorted(EXAMPLES.glob("explain-*"))
root = EXAMPLES / sys.argv[1] if len(sys.argv) > 1 else (found[-1] if found else None)
if root is None or not root.exists():
    print("No rows yet: run `bash bench/explain/run.sh` on one GPU, commit its output folder under "
          "`results/examples/` as `explain-<gpu>` (with provenance.json) and regenerate this block with "
          "`python bench/docs.py`.")
    sys.exit(0)


def rows(name):
    p = root / name
    return results.load(p) if (p / "rows.jsonl").exists() else None


def pick(df, **settings):
    if df is None:
        return None
    sel = df
    for k, v in settings.items():
        sel = sel[sel[k].astype(str) == str(v)] if k in sel else sel.iloc[0:0]
    return sel


def section(title, ra, rb, dir_a, dir_b, extra=None):
    """One comparison: the explanation's markdown (B's rows take A's config id: they pair by it)."""
    print(f"### {title}\n")
    if ra is None or rb is None or ra.empty or rb.empty:
        print("Not measured (no rows for one side).\n")
        return None
    try:
        e = explain.explain_config(ra, rb.assign(config_id=ra["config_id"].iloc[0]), dir_a, dir_b)
    except explain.ExplainError as err:
        print(f"Not explained: {err}\n")
        return None
    e.label = title
    print(present.markdown(e).split("\n", 2)[2])  # without its own heading
    for side, r in (("A", ra), ("B", rb)):
        print(f"- bound {present.bound_line(side, bound.config_bound(r, peak_gb_per_s))}")
    if extra:
        extra(e)
    print()
    return e


def hooks(e):
    n = gpt.SIZES["124m"]["n_layer"]
    h = e.host.get("hook_s_b")
    if h:
        print(f"- FSDP2's hooks on the host: {h * 1e3:.2f} ms per step, {h * 1e3 / n:.3f} ms per block ({n} blocks); "
              f"GPU busy {cell(e.host.get('busy_frac_b'), '{:.0%}')} of FSDP2's step against "
              f"{cell(e.host.get('busy_frac_a'), '{:.0%}')} of DDP's")


def launches(e):
    rows_ = [[c, f"{a:.0f}", f"{b:.0f}"] for c, (a, b) in sorted(e.kernels.get("launches", {}).items())]
    if rows_:
        print("\nKernel launches per step by category (A: eager, B: compiled):\n")
        print(markdown(["category", "A", "B"], rows_))
    n = llama.SIZES["1b"]["n_layer"]
    print(f"\n(Llama 1B: {n} blocks.)")


gpt_rows, planted, llama_rows = rows("gpt"), rows("planted"), rows("llama")
d_gpt, d_planted, d_llama = root / "gpt", root / "planted", root / "llama"
print(provenance(root.name) if root.parent == EXAMPLES else f"Rows: `{root}`.")
print()
section("A planted extra elementwise kernel (GPT-2 124M; B: two multiplies more in every MLP)",
        pick(gpt_rows, engine="torch"), pick(planted, engine="torch"), d_gpt, d_planted)
section("FSDP2 against DDP at one GPU (GPT-2 124M, 16 x 1024; A: DDP, B: FSDP2)",
        pick(gpt_rows, engine="ddp"), pick(gpt_rows, engine="fsdp"), d_gpt, d_gpt, hooks)
section("fp8 eager against bf16 eager (Llama 1B, 4 x 2048; A: bf16, B: fp8)",
        pick(llama_rows, precision="bf16", compile="off"), pick(llama_rows, precision="fp8", compile="off"),
        d_llama, d_llama)
section("Llama 1B eager against compiled (bf16; A: eager, B: compiled)",
        pick(llama_rows, precision="bf16", compile="off"), pick(llama_rows, precision="bf16", compile="default"),
        d_llama, d_llama, launches)

print("### Bound and roofline per config\n")
print(f"Bytes: {bound.BYTES_METHOD}.\n")
table = []
for name, df in (("gpt", gpt_rows), ("planted", planted), ("llama", llama_rows)):
    if df is None:
        continue
    for _cid, g in df.groupby("config_id", sort=False):
        r, b = g.iloc[0], bound.config_bound(g, peak_gb_per_s)
        what = ", ".join(f"{k}={r[k]}" for k in ("model", "engine", "precision", "compile") if k in r)
        step = g.loc[g["status"] == "ok", "step_time_s_median"].median() if "step_time_s_median" in g else None
        table.append([name, what, cell(step * 1e3 if step == step and step is not None else None, "{:.2f}"),
                      cell(b["achieved_tflops_per_s"], "{:.0f}"), cell(b["achieved_gb_per_s"], "{:.0f}"),
                      cell(b["intensity_flop_per_byte"], "{:.0f}"), cell(b["roofline_frac"], "{:.0%}"),
                      cell(b["bound"]), cell(b["bound_basis"])])
print(markdown(["run", "config", "step ms", "TFLOP/s", "GB/s (lower bound)", "FLOP/byte", "of roofline", "bound",
                "why"], table, right={2, 3, 4, 5, 6}))
