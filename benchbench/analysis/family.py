"""Control over the family: many configs x metrics judged at once keep the chance of *any* false
verdict at the level (5%), not 5% per config.

Holm's step-down adjustment of the repeat-level p-values (evidence.test) is used, not
Benjamini-Hochberg: a person acts on each single verdict (a gate fails on one config), so the
chance of any false verdict (the family-wise error) is what must stay small; BH bounds only the
expected share of false verdicts among the verdicts, and over 50 unchanged configs that still
lets one through in most runs of many. Holm is valid under any dependence between the metrics of
one config (throughput and step time are the same measurement) and is uniformly more powerful than
Bonferroni.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchbench.analysis import evidence


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values, in the input order (nan stays nan)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if not m:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def tested(t: pd.DataFrame) -> pd.Series:
    """Rows of a compare() table whose verdict waits for the family: a t-test was made."""
    return (t["test"] == "t") if "test" in t else pd.Series(False, index=t.index)


def adjust(tables: list[pd.DataFrame], level: float = 0.05) -> int:
    """Adjust the p-values of every tested row of all `tables` together (Holm) and decide each row's
    verdict, note and `worse` in place. Returns the family size; each table's attrs get
    `family` (the size) and `adjusted_level` (the level the smallest p-value must beat)."""
    rows = [(t, i) for t in tables for i in t.index[tested(t)]]
    adj = holm([t.at[i, "p_value"] for t, i in rows])
    for (t, i), p in zip(rows, adj):
        up = bool(t.attrs.get("higher_is_better", True))
        res = evidence.decide(t.loc[i], float(p), level, up, len(rows))
        t.at[i, "p_adjusted"] = float(p)
        for k, v in res.items():
            t.at[i, k] = v
    for t in tables:
        t.attrs.update(family=len(rows), adjusted_level=level / len(rows) if rows else level)
    return len(rows)


def level_text(family: int, level: float) -> str:
    """'Holm over 50 tests: the strongest needs p < 0.001' (the adjusted level, for people)."""
    if family <= 1:
        return f"{family} test at level {level:g}"
    return f"Holm over {family} tests: the strongest needs p < {level / family:.2g}, the next < {level / (family - 1):.2g}, ..."
