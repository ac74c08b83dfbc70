"""`compare --by`: one axis against another as a matrix of ratios with verdicts.

- one run: each config against the config that differs from it only on the --by axes and has the
  reference values there (the run's baseline config's, else the first config's): e.g. a
  precision x attention speedup matrix;
- two runs: compare()'s ratio b/a of each config, laid out by the --by axes.

Axes that vary but are not in --by become extra row labels. Cells: "1.23x faster",
"0.99x ~" (same within noise), or the status change.
"""

from __future__ import annotations

import pandas as pd

from benchbench.analysis import compare
from benchbench.analysis import summary as tables
from benchbench.basics.errors import UserError

SHORT = {"same": "~", "undecided": "?", "two modes": "2 modes", "faster": "faster", "slower": "slower"}


PivotError = UserError  # axes a matrix cannot be made of


def check_axes(df: pd.DataFrame, by: list[str]):
    varying = tables.varying_axes(df)
    bad = [a for a in by if a not in varying]
    if bad:
        raise PivotError(f"--by {','.join(by)}: {', '.join(bad)} {'does' if len(bad) == 1 else 'do'} not vary in "
                         f"these runs; axes that vary: {', '.join(varying) or 'none'}")
    if not 1 <= len(by) <= 2:
        raise PivotError(f"--by takes one or two axes (rows,columns), got {len(by)}")


def cell(r) -> str:
    if r["verdict"] == "status changed":
        return f"{r['status_a']} -> {r['status_b']}"
    if r["verdict"] in ("only in A", "only in B"):
        return r["verdict"]
    if r["ratio"] is None or pd.isna(r["ratio"]):
        return str(r["status_b"] or "-")
    return f"{r['ratio']:.2f}x {SHORT.get(r['verdict'], r['verdict'])}"


def layout(per_config: pd.DataFrame, cells: dict[str, str], by: list[str], axes: list[str]) -> pd.DataFrame:
    """Rows: the other varying axes + by[0]; columns: by[1] (or the metric when one axis)."""
    others = [a for a in axes if a not in by]
    index = [*others, by[0]]
    recs = []
    for cid, r in per_config.iterrows():
        rec = {a: str(r[a]) for a in index}
        rec[str(r[by[1]]) if len(by) == 2 else "ratio"] = cells.get(cid, "-")
        recs.append(rec)
    out = pd.DataFrame(recs)
    return out.groupby(index, sort=False).first().reset_index().fillna("-")


def single_run(df: pd.DataFrame, by: list[str], metric: str, reference_id: str | None = None,
               level: float = 0.05) -> pd.DataFrame:
    check_axes(df, by)
    compare.check_metric(df, metric)
    axes = tables.varying_axes(df)
    per_config = df.drop_duplicates("config_id").set_index("config_id")
    ref_id = reference_id if reference_id in per_config.index else per_config.index[0]
    ref_by = {a: str(per_config.at[ref_id, a]) for a in by}
    others = [a for a in axes if a not in by]
    slice_ref = {}
    for cid, r in per_config.iterrows():
        if all(str(r[a]) == ref_by[a] for a in by):
            slice_ref[tuple(str(r[a]) for a in others)] = cid
    cells = {}
    for cid, r in per_config.iterrows():
        ref = slice_ref.get(tuple(str(r[a]) for a in others))
        if ref is None:
            cells[cid] = "no reference"
            continue
        a = df[df["config_id"] == ref]
        b = df[df["config_id"] == cid].assign(config_id=ref)
        t = compare.compare(a, b, metric, level=level, between_run_sd=0.0)  # configs of one run
        cells[cid] = "1.00x (ref)" if cid == ref else cell(t.iloc[0])
    out = layout(per_config, cells, by, axes)
    out.attrs.update(reference={a: ref_by[a] for a in by}, metric=metric)
    return out


def two_runs(t: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    both = pd.concat([a, b], ignore_index=True)
    check_axes(both, by)
    per_config = both.drop_duplicates("config_id").set_index("config_id")
    cells = {r["config_id"]: cell(r) for _, r in t.iterrows()}
    out = layout(per_config, cells, by, tables.varying_axes(both))
    out.attrs.update(metric=t.attrs.get("metric"))
    return out

