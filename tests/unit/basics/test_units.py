"""basics/units.py: bytes as people read them."""

import pandas as pd

from benchbench.basics.units import GIB, human_bytes


def test_human_bytes():
    assert [human_bytes(n) for n in (512, 1536, 5 * GIB, 3 * 1024 * GIB * 1024)] == ["512 B", "1.5 KiB", "5.0 GiB", "3072.0 TiB"]
    assert [human_bytes(n) for n in (float("nan"), None, pd.NA, "x")] == ["-"] * 4
