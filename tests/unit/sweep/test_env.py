"""sweep/env.py's project state: the commit, commit time and branch of the repository benchbench runs in
(what orders the history), on a small repository made here."""

from benchbench.sweep import env
from tests.fixtures import history_repo


def test_the_working_directorys_repository_is_recorded(tmp_path):
    repo, commits, _ = history_repo.make(tmp_path, n=2, k=1)
    s = env.project_state(repo)
    assert s["git_commit"] == commits[-1] and s["git_branch"] == "main" and s["git_dirty"] is False
    assert s["git_commit_time"] == "2026-01-01T00:01:00+00:00"
    (repo / "untracked.txt").write_text("untracked files do not make it dirty")
    assert env.project_state(repo)["git_dirty"] is False
    (repo / "CHANGES").write_text("edited")
    assert env.project_state(repo)["git_dirty"] is True
    history_repo.git(repo, "checkout", "CHANGES")
    history_repo.git(repo, "checkout", "-q", "--detach", commits[0])
    s = env.project_state(repo)
    assert s["git_branch"] == "" and s["git_commit"] == commits[0] and s["git_commit_time"].startswith("2026-01-01T00:00")


def test_outside_a_repository_nothing_is_guessed(tmp_path):
    s = env.project_state(tmp_path)
    assert {k: s[k] for k in ("git_commit", "git_commit_time", "git_branch", "git_dirty")} == dict.fromkeys(
        ("git_commit", "git_commit_time", "git_branch", "git_dirty"))


def test_a_busy_machine_is_named_at_the_start_of_a_run():
    assert env.busy_warning(load=0.4, cores=2) is None
    line = env.busy_warning(load=3.5, cores=2)
    assert "busy" in line and "3.50" in line and "2 usable cores" in line
