"""compare --by: one run's axes against each other, and two runs laid out by axes."""

import pandas as pd
import pytest

from benchbench.analysis import compare, pivot
from tests.fixtures.runs import config


def run(scale=1.0, seed=0):
    return pd.DataFrame([
        *config("e32", 0.10 * scale, attention="eager", precision="fp32", seed=seed),
        *config("s32", 0.05 * scale, attention="sdpa", precision="fp32", seed=seed + 1),
        *config("e16", 0.10 * scale, attention="eager", precision="bf16", seed=seed + 2),
        *config("s16", 0.20 * scale, attention="sdpa", precision="bf16", seed=seed + 3),
    ])


def test_single_run_matrix_against_the_reference_config():
    p = pivot.single_run(run(), ["precision", "attention"], "tokens_per_s", reference_id="e32")
    assert list(p.columns) == ["precision", "eager", "sdpa"]
    cells = p.set_index("precision")
    assert cells.loc["fp32", "eager"] == "1.00x (ref)"
    ratio, verdict = cells.loc["fp32", "sdpa"].split("x ")
    assert float(ratio) == pytest.approx(2.0, rel=0.03) and verdict == "faster"
    assert cells.loc["bf16", "eager"].endswith("~")                       # same step times: within noise
    assert cells.loc["bf16", "sdpa"].endswith("slower") and cells.loc["bf16", "sdpa"].startswith(("0.49", "0.50", "0.51"))
    assert p.attrs["reference"] == {"precision": "fp32", "attention": "eager"}


def test_single_axis_keeps_the_other_axes_as_rows():
    p = pivot.single_run(run(), ["attention"], "tokens_per_s", reference_id="e32")
    assert list(p.columns) == ["precision", "attention", "ratio"]
    bf16 = p[p["precision"] == "bf16"].set_index("attention")["ratio"]
    assert bf16["eager"] == "1.00x (ref)" and bf16["sdpa"].endswith("slower")   # bf16's own reference


def test_two_runs_by_axes():
    a, b = run(), run(scale=1.25, seed=10)
    t = compare.compare(a, b)
    p = pivot.two_runs(t, a, b, ["precision", "attention"])
    assert all(c.endswith("slower") and c.startswith(("0.79", "0.80", "0.81")) for c in p.set_index("precision").loc["fp32"])


def test_bad_axes():
    with pytest.raises(pivot.PivotError, match="batch_size does not vary.*axes that vary: precision, attention"):
        pivot.single_run(run(), ["batch_size"], "tokens_per_s")
    with pytest.raises(pivot.PivotError, match="one or two axes"):
        pivot.single_run(run(), ["precision", "attention", "precision"], "tokens_per_s")
