"""family: Holm's adjustment (known values, order kept, nan kept) and the verdicts of several tables
decided together (the chance of any false verdict over configs x metrics)."""

import numpy as np
import pytest

from benchbench.analysis import compare, family
from tests.fixtures.runs import config, frame


def test_holm_known_values_in_input_order():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert np.allclose(family.holm(p)[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(family.holm(p)[4]) and family.holm([]).size == 0
    assert family.holm([0.9, 0.8]).max() == 1.0


def test_tables_adjusted_together_need_stronger_evidence():
    a = frame(*config("c1", 0.100, repeat_spread=0.002), *config("c2", 0.100, attention="sdpa", seed=3))
    b = frame(*config("c1", 0.103, seed=1, repeat_spread=0.002), *config("c2", 0.100, attention="sdpa", seed=4))
    t1, t2 = compare.compare(a, b, "tokens_per_s"), compare.compare(a, b, "step_time_s")
    alone = t1.set_index("config_id").loc["c1", "p_adjusted"]
    n = family.adjust([t1, t2])
    assert n == 4 and t1.attrs["family"] == 4 and t1.attrs["adjusted_level"] == pytest.approx(0.05 / 4)
    assert t1.set_index("config_id").loc["c1", "p_adjusted"] >= alone
    assert "Holm over 4 tests" in family.level_text(4, 0.05) and "p < 0.013" in family.level_text(4, 0.05)
