"""sweep/bisect.py on a real small repository (tests/fixtures/history_repo.py) with the measuring replaced
by synthetic run directories (chosen step times): the first bad commit in few probes, ends that do not
differ refused, a probe judged against both ends."""

import math

import numpy as np
import pytest

from benchbench.sweep import bisect
from tests.fixtures import history_repo
from tests.fixtures.runs import CPU_ENV, config, write_run


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return history_repo.make(tmp_path_factory.mktemp("bisect"))


def fake_runs(commits, k, factor):
    """run_probe's stand-in: the config's steps are `factor` x slower from commit index k on."""
    def run_probe(repo, commit, suite, config_id, run_dir, setup=None, smoke=False, timeout_s=None):
        i = commits.index(commit)
        write_run(run_dir, config(config_id, 0.01 * (factor if i >= k else 1.0), seed=i),
                  env={**CPU_ENV, "git_commit": commit})
        return run_dir
    return run_probe


@pytest.mark.parametrize("k", range(1, history_repo.N_COMMITS))
def test_the_first_bad_commit_in_at_most_log2_probes(repo, tmp_path, monkeypatch, k):
    path, commits, suite = repo
    monkeypatch.setattr(bisect, "run_probe", fake_runs(commits, k, 4.0))
    seen = []
    res = bisect.bisect(path, commits[0], commits[-1], suite, "c", tmp_path, on_probe=seen.append, log=lambda m: None)
    assert res.first_bad == commits[k]
    assert len(res.probes) <= 2 + math.ceil(math.log2(len(commits) - 1)) and len(seen) == len(res.probes)
    assert res.metric == "tokens_per_s" and [p.verdict for p in res.probes[:2]] == ["good", "bad"]


def test_ends_that_do_not_differ_are_refused(repo, tmp_path, monkeypatch):
    path, commits, suite = repo
    monkeypatch.setattr(bisect, "run_probe", fake_runs(commits, 99, 4.0))
    with pytest.raises(bisect.BisectError, match="do not differ"):
        bisect.bisect(path, commits[0], commits[-1], suite, "c", tmp_path, log=lambda m: None)


def test_classify_uses_both_ends():
    good, bad = np.array([100.0, 101, 99]), np.array([50.0, 50.5, 49.5])
    assert bisect.classify(np.array([100.0, 100.5, 99.5]), good, bad) == ("good", "")
    assert bisect.classify(np.array([50.0, 50.2, 49.8]), good, bad) == ("bad", "")
    verdict, note = bisect.classify(np.array([60.0, 60.5, 59.5]), good, bad)
    assert verdict == "bad" and "nearer the bad end" in note

