"""The toy plug-in package (tests/fixtures/plugins) on sys.path, and packages written for one test."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from benchbench import plugins

TOY = Path(__file__).resolve().parents[2] / "fixtures" / "plugins"


def _forget(prefixes):
    for name in [m for m in sys.modules if m.split(".")[0] in prefixes]:
        del sys.modules[name]


@pytest.fixture
def toy(monkeypatch):
    """toybench installed: its model, technique, engine, collector and metric."""
    monkeypatch.syspath_prepend(str(TOY))
    plugins.reset()
    yield TOY
    plugins.reset()
    _forget({"toybench"})


@pytest.fixture
def package(tmp_path, monkeypatch):
    """install(name, entry_points_txt, {module: source}): a distribution on sys.path for this test."""
    names = set()

    def install(dist: str, entry_points: str, modules: dict[str, str] | None = None) -> Path:
        info = tmp_path / f"{dist}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
        for mod, src in (modules or {}).items():
            (tmp_path / f"{mod}.py").write_text(textwrap.dedent(src))
            names.add(mod)
        plugins.reset()
        return tmp_path

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install
    plugins.reset()
    _forget(names)
