"""analysis/matching.py: configs of two runs matched with settings left out (compare --ignore)."""

from pathlib import Path

import pandas as pd
import pytest

from benchbench.analysis import matching
from benchbench.basics.errors import UserError
from tests.integration.test_cli import cli_run, plain_output  # noqa: F401


def rows(run: str, warmup, ids, precisions=("bf16", "fp16")) -> pd.DataFrame:
    return pd.DataFrame([{"config_id": f"{run}-{cid}", "precision": p, "warmup_steps": warmup, "model": "gpt",
                          "seed": 0, "status": "ok", "tokens_per_s": 100.0, "repeat": r}
                         for cid, p in zip(ids, precisions) for r in range(3)])


def test_configs_that_differ_only_in_an_ignored_setting_are_matched():
    a, b = rows("a", 3, ["x", "y"]), rows("b", "auto", ["u", "v"])
    a2, b2 = matching.rekey([a, b], ["A", "B"], ["warmup_steps"])
    assert a2 is a and sorted(set(b2["config_id"])) == ["a-x", "a-y"]
    assert dict(zip(b2["precision"], b2["config_id"])) == {"bf16": "a-x", "fp16": "a-y"}
    # without --ignore nothing changes; a config the first run lacks keeps its own id
    assert matching.rekey([a, b], ["A", "B"], []) == [a, b]
    c = rows("c", "auto", ["w"], precisions=("fp32",))
    assert set(matching.rekey([a, c], ["A", "C"], ["warmup_steps"])[1]["config_id"]) == {"c-w"}


def test_an_unknown_setting_or_merged_configs_are_user_errors():
    a = rows("a", 3, ["x", "y"])
    with pytest.raises(UserError, match="--ignore warmup: not a setting that identifies a config; one of: .*warmup_steps"):
        matching.rekey([a, a], ["A", "B"], ["warmup"])
    with pytest.raises(UserError, match="configs a-x and a-y of run A differ only in the ignored settings"):
        matching.rekey([a, a], ["A", "B"], ["precision"])


def test_compare_ignore_on_the_committed_rows(plain_output):  # noqa: F811
    """The committed rows of the old and new warm-up methods: matched, and no config is faster or slower."""
    rows_dir = Path(__file__).resolve().parents[3] / "results" / "examples" / "sweep-time-h100"
    old, new = rows_dir / "old.1", rows_dir / "new.2"
    r = cli_run("compare", old, new, "--ignore", "warmup_steps")
    assert r.returncode == 0, r.stderr
    assert "only in" not in r.stdout and "precision=bf16" in r.stdout
    assert " faster" not in r.stdout and " slower" not in r.stdout
    assert cli_run("compare", old, "--ignore", "warmup_steps").returncode == 2
