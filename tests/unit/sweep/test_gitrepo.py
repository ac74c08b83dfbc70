"""sweep/gitrepo.py on a real small repository (tests/fixtures/history_repo.py): revisions, ancestry,
cleanliness, and worktrees that leave the checkout as it was."""

import pytest

from benchbench.sweep import gitrepo
from tests.fixtures import history_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return history_repo.make(tmp_path_factory.mktemp("git"), n=4, k=2)


def test_git_side_revisions_ancestry_and_worktrees(repo):
    path, commits, suite = repo
    assert gitrepo.resolve(path, "HEAD") == commits[-1] and gitrepo.resolve(path, commits[3][:10]) == commits[3]
    with pytest.raises(gitrepo.GitError, match="'nope' does not exist"):
        gitrepo.resolve(path, "nope")
    assert gitrepo.between(path, commits[0], commits[-1]) == commits[1:]
    with pytest.raises(gitrepo.GitError, match="not an ancestor"):
        gitrepo.between(path, commits[-1], commits[0])
    with gitrepo.worktree(path, commits[1]) as wt:
        assert "WIDTH = 512" in (wt / "histmodel.py").read_text() and (wt / "CHANGES").read_text() == "commit 1\n"
    assert not wt.exists() and len(gitrepo.git(path, "worktree", "list").splitlines()) == 1
    assert gitrepo.git(path, "rev-parse", "HEAD") == commits[-1] and gitrepo.git(path, "status", "--porcelain") == ""


def test_a_dirty_checkout_and_a_non_repository_are_refused(repo, tmp_path):
    path, commits, suite = repo
    gitrepo.check_clean(path)
    (path / "untracked.txt").write_text("not tracked: not dirty")
    gitrepo.check_clean(path)
    (path / "CHANGES").write_text("edited")
    try:
        with pytest.raises(gitrepo.GitError, match=r"uncommitted changes \(CHANGES\)"):
            gitrepo.check_clean(path)
    finally:
        history_repo.git(path, "checkout", "CHANGES")
        (path / "untracked.txt").unlink()
    with pytest.raises(gitrepo.GitError, match="not a git repository"):
        gitrepo.toplevel(tmp_path)
    with pytest.raises(gitrepo.GitError, match="no such directory"):
        gitrepo.toplevel(tmp_path / "missing")
    assert gitrepo.commit_time(path, commits[1]).startswith("2026-01-01T00:01:00")
    assert gitrepo.commit_time(path, "nope") is None


def test_a_suite_in_the_repository_is_read_at_the_worktree(repo, tmp_path):
    """A probe's suite lies where the user's lay, in the commit's tree: a py: model beside it is the commit's."""
    path, commits, suite = repo
    user_suite = path / "suites" / "mine.yaml"
    user_suite.parent.mkdir(exist_ok=True)
    user_suite.write_text("name: mine\n")
    try:
        with gitrepo.worktree(path, commits[1]) as wt:
            placed = gitrepo.suite_in(path, wt, user_suite)
            assert placed == wt / "suites" / "mine.yaml" and placed.read_text() == "name: mine\n"
            # a run folder's copy, placed where the original suite lay
            copy = tmp_path / "suite.yaml"
            copy.write_text("name: copy\n")
            assert gitrepo.suite_in(path, wt, copy, at=user_suite).read_text() == "name: copy\n"
            outside = tmp_path / "elsewhere.yaml"
            outside.write_text("name: out\n")
            assert gitrepo.suite_in(path, wt, outside) == outside.resolve()
    finally:
        user_suite.unlink()
        user_suite.parent.rmdir()
