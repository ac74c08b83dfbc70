"""Configs of two runs matched with some settings left out: `compare --ignore warmup_steps` tells whether a
change of method (how long to warm up, how many steps to time) changed what is measured, where the
configs' ids differ only by that setting.

A config's key is its identifying settings (spec/config.py: what its config_id hashes) less the ignored
ones; every run's rows get the first run's config_id for the key, or keep their own when the first run
has no config of that key.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from benchbench.basics.errors import UserError
from benchbench.spec.config import NOT_IN_ID, RunConfig


def _plain(v):
    """A value as a key's part: pandas' NaN for a missing value is None, numpy scalars are Python's."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def check(ignore: list[str]) -> list[str]:
    """The ignored settings, each a setting that identifies a config; UserError naming the allowed ones."""
    known = [s for s in RunConfig.model_fields if s not in NOT_IN_ID]
    bad = [s for s in ignore if s not in known]
    if bad:
        raise UserError(f"--ignore {','.join(bad)}: not a setting that identifies a config; one of: {', '.join(known)}")
    return ignore


def keys(df: pd.DataFrame, ignore: list[str], name: str, columns=None) -> dict[str, str]:
    """config_id -> its key without the ignored settings (of those in `columns`, default all of the run's);
    UserError when two configs of the run share a key."""
    columns = df.columns if columns is None else columns
    settings = [s for s in RunConfig.model_fields if s not in NOT_IN_ID and s not in ignore and s in columns]
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for cid, r in df.drop_duplicates("config_id").set_index("config_id").iterrows():
        key = json.dumps({s: _plain(r[s]) for s in settings}, sort_keys=True, default=str)
        if key in seen:
            raise UserError(f"--ignore {','.join(ignore)}: configs {seen[key]} and {cid} of run {name} differ only in "
                            "the ignored settings; compare them with these settings kept")
        seen[key] = cid
        out[cid] = key
    return out


def rekey(frames: list[pd.DataFrame], names: list[str], ignore: list[str]) -> list[pd.DataFrame]:
    """Every run's rows with the config_id of the first run's config of the same key (settings less `ignore`)."""
    if not ignore:
        return frames
    check(ignore)
    common = set.intersection(*(set(f.columns) for f in frames))  # a setting newer than a run's rows: left out
    first = {k: cid for cid, k in keys(frames[0], ignore, names[0], common).items()}
    out = [frames[0]]
    for df, name in zip(frames[1:], names[1:]):
        to = {cid: first.get(k, cid) for cid, k in keys(df, ignore, name, common).items()}
        out.append(df.assign(config_id=df["config_id"].map(to)))
    return out
