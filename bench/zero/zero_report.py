"""Print the ZeRO memory table of stored runs: per config, step time, peak, and what each rank
holds by role next to the ZeRO paper's model-state figure.   python bench/zero_report.py RUN_DIR...
"""

from __future__ import annotations

import sys

import pandas as pd

from benchbench.basics.units import GIB
from benchbench.store import results

VARIANT = ("reduce_bucket_size", "allgather_bucket_size", "stage3_prefetch_bucket_size", "stage3_max_live_parameters",
           "grad_accum_dtype", "offload_optimizer", "offload_param")


def variant(r) -> str:
    out = []
    for k in VARIANT:
        v = r.get(k)
        if v is None or v is False or (isinstance(v, float) and pd.isna(v)):
            continue
        out.append(k.replace("stage3_", "s3_").replace("_bucket_size", "_bkt") + ("" if v is True else f"={v:.0e}" if isinstance(v, (int, float)) else f"={v}"))
    return " ".join(out) or "default"


def table(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in df.iterrows():
        def g(k, r=r):
            return r.get(k) / GIB if pd.notna(r.get(k)) else None

        model_states, pred = g("zero_model_states_bytes"), g("predicted_model_state_bytes")
        rows.append({
            "model": r["model_size"], "engine": r["engine"], "stage": r["zero_stage"] if r["engine"] == "deepspeed" else "-",
            "ws": r["world_size"], "variant": variant(r), "status": r["status"],
            "step_ms": r.get("step_time_s_median", float("nan")) * 1e3, "tok/s": r.get("tokens_per_s"),
            "peak_GiB": g("peak_allocated_bytes"), "params": g("zero_params_bytes"), "grads": g("zero_grads_bytes"),
            "optim": g("zero_optimizer_state_bytes"), "buffers": g("zero_buffers_bytes"), "offloaded": g("zero_offloaded_bytes"),
            "model_states": model_states, "paper": pred,
            "states/paper": model_states / pred if model_states and pred else None,
            "fwd_bwd+": g("fwd_bwd_transient_bytes"), "step+": g("optimizer_step_transient_bytes"),
            "largest held": str(r.get("zero_largest_held") or "")[:90] if r["status"] == "ok" else str(r.get("reason"))[:90],
        })
    return pd.DataFrame(rows)


if __name__ == "__main__":
    df = results.load(*sys.argv[1:])
    pd.set_option("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 90)
    print(table(df).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
