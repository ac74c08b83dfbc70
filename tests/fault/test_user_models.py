"""A suite's `py:` model comes from where the suite names it (an importable module, or the suite file's
folder), never from the current directory: a stray module there of the same name (or named like a
library: torch.py) never runs, in the parent, in a plain worker or under torchrun (launcher and ranks)."""

import sys
from pathlib import Path

import pytest

from benchbench.models import user
from benchbench.spec import suite as suites
from benchbench.spec.config import RunConfig
from benchbench.sweep import launch

STRAY = "from pathlib import Path\nPath({marker!r}).write_text('ran')\nraise SystemExit('a stray module ran')\n"
MODEL = "from tests.fixtures.faulty_model import ARGS, SIZES, build  # noqa: F401\nHERE = 'beside the suite'\n"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """(the suite's folder, the current directory): a module name of its own per test, forgotten after."""
    name = f"bb_user_model_{abs(hash(tmp_path)) % 10**8}"
    suite_dir, cwd = tmp_path / "suites", tmp_path / "cwd"
    suite_dir.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv(user.VAR, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield suite_dir, cwd, name
    sys.modules.pop(name, None)


def _suite(folder: Path, name: str) -> Path:
    p = folder / "s.yaml"
    p.write_text(f"name: s\nmodel: {{name: 'py:{name}', size: ok}}\ndefaults: {{device: cpu, warmup_steps: 1, "
                 "measured_steps: 2, timeout_s: 300}\n")
    return p


def test_the_suite_folder_wins_over_a_stray_module_in_the_cwd(places):
    suite_dir, cwd, name = places
    (suite_dir / f"{name}.py").write_text(MODEL)
    (cwd / f"{name}.py").write_text(STRAY.format(marker=str(cwd / "STRAY_RAN")))
    suites.load(_suite(suite_dir, name))
    assert sys.modules[name].HERE == "beside the suite" and not (cwd / "STRAY_RAN").exists()
    assert str(cwd) not in sys.path


def test_a_module_only_in_the_cwd_is_not_found(places):
    suite_dir, cwd, name = places
    (cwd / f"{name}.py").write_text(STRAY.format(marker=str(cwd / "STRAY_RAN")))
    with pytest.raises(suites.SuiteError) as e:
        suites.load(_suite(suite_dir, name))
    msg = str(e.value.problems[0])
    assert f"cannot import model module '{name}'" in msg and str(suite_dir) in msg and "PYTHONPATH" in msg, msg
    assert not (cwd / "STRAY_RAN").exists()


def test_a_run_directorys_copy_of_the_suite_finds_the_models_beside_the_original(places, tmp_path):
    suite_dir, cwd, name = places
    (suite_dir / f"{name}.py").write_text(MODEL)
    original = _suite(suite_dir, name)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "suite.yaml").write_text(original.read_text())
    (run_dir / "run.json").write_text(f'{{"suite_path": "{original}"}}')
    suites.load(run_dir / "suite.yaml")  # what --resume loads
    assert user.folders()[0] == str(suite_dir.resolve())


@pytest.mark.parametrize("ranks", [1, 2], ids=["plain worker", "torchrun"])
def test_a_worker_imports_the_model_where_the_suite_names_it(places, tmp_path, ranks):
    suite_dir, cwd, name = places
    (suite_dir / f"{name}.py").write_text(MODEL)
    for stray in (name, "torch"):  # torch: what `-m torch.distributed.run` imports first
        (cwd / f"{stray}.py").write_text(STRAY.format(marker=str(cwd / f"{stray}_RAN")))
    user.beside(suite_dir / "s.yaml")  # what loading the suite does in the parent
    cfg = RunConfig(model=f"py:{name}", model_size="ok", device="cpu", warmup_steps=1, measured_steps=2, timeout_s=300,
                    **({"engine": "ddp", "world_size": 2} if ranks == 2 else {}))
    (tmp_path / "run").mkdir()
    r = launch.run(cfg, tmp_path / "run", 0)
    assert r["status"] == "ok", r
    assert not list(cwd.glob("*_RAN"))


@pytest.mark.parametrize("ranks", [1, 2], ids=["plain worker", "torchrun"])
def test_a_worker_never_falls_back_to_the_cwd(places, tmp_path, ranks):
    suite_dir, cwd, name = places
    (cwd / f"{name}.py").write_text(STRAY.format(marker=str(cwd / "STRAY_RAN")))
    cfg = RunConfig(model=f"py:{name}", model_size="ok", device="cpu", warmup_steps=1, measured_steps=2, timeout_s=300,
                    **({"engine": "ddp", "world_size": 2} if ranks == 2 else {}))
    (tmp_path / "run").mkdir()
    r = launch.run(cfg, tmp_path / "run", 0)
    assert r["status"] == "error" and "No module named" in (r.get("reason") or "") + (r.get("log_tail") or ""), r
    assert not (cwd / "STRAY_RAN").exists()
