"""What a config's throughput costs, from stored rows: US dollars per million tokens (samples).

    usd_per_mtoken        = price_per_gpu_hour x world_size / 3600 / tokens_per_s x 1e6
    energy_usd_per_mtoken = energy_j_per_step / tokens_per_step / 3.6e6 x price_per_kwh x 1e6

The first is the rented-machine price (it includes the energy the provider pays); the second is
the energy part alone, for owned machines, and needs rows that measured energy (NVML). Rows
without tokens (image models) get `usd_per_msample` / `energy_usd_per_msample` from samples
instead. Prices are the user's numbers (a suite's `price_per_gpu_hour`/`price_per_kwh` settings
or `--price`); nothing here knows a provider's price. A row's throughput is its repeat's statistic
(analysis/value.py), and a config's cost is the price over the config's value (`config_costs`), so
the cost column follows from the throughput shown beside it.
"""

from __future__ import annotations

import math

import pandas as pd

from benchbench.analysis import value as values
from benchbench.basics.errors import UserError

J_PER_KWH = 3.6e6
COST_COLUMNS = ("usd_per_mtoken", "usd_per_msample", "energy_usd_per_mtoken", "energy_usd_per_msample")


CostError = UserError  # a price that cannot be used (negative, not a number): the message names it


def check_price(name: str, value) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CostError(f"{name} must be a number of US dollars, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise CostError(f"{name} must be a finite number >= 0 (US dollars), got {value!r}")
    return v


def _price(df: pd.DataFrame, name: str, given) -> pd.Series | None:
    given = check_price(name, given)
    if given is not None:
        return pd.Series(given, index=df.index, dtype=float)
    if name in df and _col(df, name).notna().any():
        return _col(df, name)
    return None


def _col(df: pd.DataFrame, name: str, default=math.nan) -> pd.Series:
    if name in df:
        return pd.to_numeric(df[name], errors="coerce")
    return pd.Series(default, index=df.index, dtype=float)


def with_cost(df: pd.DataFrame, price_per_gpu_hour: float | None = None,
              price_per_kwh: float | None = None) -> pd.DataFrame:
    """A copy of the rows with the cost columns added (NaN where a row lacks what a column needs).

    A price given here wins over the rows' own `price_per_gpu_hour`/`price_per_kwh` settings (the
    suite's); with neither, that price's columns are left out."""
    out = df.copy()
    if out.empty:
        return out
    price_per_gpu_hour = _price(out, "price_per_gpu_hour", price_per_gpu_hour)
    price_per_kwh = _price(out, "price_per_kwh", price_per_kwh)
    gpus = _col(out, "world_size", 1.0).fillna(1.0)
    has_tokens = _col(out, "tokens_per_s").notna()
    for unit, thr, per_step, rows in (("mtoken", "tokens_per_s", "tokens_per_step", has_tokens),
                                      ("msample", "samples_per_s", "samples_per_step", ~has_tokens)):
        # per million tokens for token models; per million samples only for rows without tokens (images)
        if thr not in out or not _col(out, thr)[rows].notna().any():
            continue
        if price_per_gpu_hour is not None:
            rate = values.repeat_values(out, thr).fillna(_col(out, thr)).where(rows)
            out[f"usd_per_{unit}"] = (price_per_gpu_hour * gpus / 3600.0 / rate.where(rate > 0)) * 1e6
        if price_per_kwh is not None and "energy_j_per_step" in out:
            units = _col(out, per_step).where(rows)
            j_per_unit = _col(out, "energy_j_per_step") / units.where(units > 0)
            out[f"energy_usd_per_{unit}"] = j_per_unit / J_PER_KWH * price_per_kwh * 1e6
    return out


def config_costs(rows: pd.DataFrame, thr_col: str, thr_value: float, price_per_gpu_hour: float | None = None) -> dict:
    """One config's cost columns from its throughput value (`thr_value`, analysis/value.py): the
    rented price over that value; the energy part (measured, not derived from throughput) as the
    median over ok repeats. `rows` went through with_cost()."""
    ok = rows[rows["status"] == "ok"] if "status" in rows else rows
    unit = "mtoken" if thr_col == "tokens_per_s" else "msample"
    out = {c: float(pd.to_numeric(ok[c], errors="coerce").median())
           for c in COST_COLUMNS if c.startswith("energy_") and c in ok and ok[c].notna().any()}
    price = _price(ok, "price_per_gpu_hour", price_per_gpu_hour) if len(ok) else None
    if price is not None and f"usd_per_{unit}" in ok and math.isfinite(thr_value) and thr_value > 0:
        gpus = _col(ok, "world_size", 1.0).fillna(1.0)
        out[f"usd_per_{unit}"] = float((price * gpus).median()) / 3600.0 / thr_value * 1e6
    return out
