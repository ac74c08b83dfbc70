"""compare() on rows measured on a GPU (results/examples/verdicts-h200): two identical GPT-2 124M sweeps
get no faster/slower verdict, and a run with two planted MLP kernels is `slower` on every config;
repeat 0 against repeat 1 of the committed report example gets no verdict either."""

from pathlib import Path

import pytest

from benchbench.analysis import compare
from benchbench.store import results

EXAMPLES = Path(__file__).resolve().parents[3] / "results" / "examples"


def load(*parts):
    d = EXAMPLES.joinpath(*parts)
    if not (d / "rows.jsonl").exists():
        pytest.skip(f"{d} is not in this checkout")
    return results.load(d)


@pytest.mark.parametrize("metric", ["tokens_per_s", "step_time_s"])
def test_identical_sweeps_get_no_verdict(metric):
    t = compare.compare(load("verdicts-h200", "a"), load("verdicts-h200", "b"), metric)
    assert len(t) == 4 and set(t["verdict"]) <= set(compare.NO_VERDICT)
    assert t["note"].str.contains("within ±|could hide").all()  # every non-verdict says how much


def test_planted_kernels_are_slower_on_every_config():
    t = compare.compare(load("verdicts-h200", "a"), load("verdicts-h200", "planted"), "tokens_per_s")
    assert len(t) == 4 and set(t["verdict"]) == {"slower"}


def test_one_repeat_against_another_gets_no_verdict():
    rows = load("report-example-h200")
    t = compare.compare(rows[rows["repeat"] == 0], rows[rows["repeat"] == 1], "tokens_per_s")
    assert not set(t["verdict"]) & {"faster", "slower"}
