"""Where a suite's `py:` model is imported from: an importable module name (PYTHONPATH, installed
packages), else the folder of the suite file that names it; never the current directory.

The folders travel in $BENCHBENCH_MODEL_PATH (set when a suite is loaded), so every worker, torchrun's
ranks included, looks where the parent looked. A folder is appended to sys.path only when it holds the
module's top-level name, and after every other entry: what is beside the suite shadows nothing installed.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import sys
from pathlib import Path

VAR = "BENCHBENCH_MODEL_PATH"
_also: list[str] = []  # folders this process adds for every suite (bisect, ab: the repository under test)


def also(folder: str | Path):
    """A folder searched after the suite's for every suite this process loads."""
    folder = str(Path(folder).resolve())
    if folder not in _also:
        _also.append(folder)
    os.environ[VAR] = os.pathsep.join(dict.fromkeys([*folders(), folder]))


def beside(suite_file: str | Path):
    """The suite file's folder is where its `py:` models are found (a run directory's copy of the suite:
    the folder of the suite it was copied from, as run.json names it, when that file is still there)."""
    path = Path(suite_file).resolve()
    folder = path.parent
    if path.name == "suite.yaml":
        try:
            given = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("suite_path")
        except (OSError, ValueError, AttributeError):
            given = None
        if isinstance(given, str) and Path(given).is_file():
            folder = Path(given).resolve().parent
    os.environ[VAR] = os.pathsep.join(dict.fromkeys([str(folder), *_also]))


def folders() -> list[str]:
    return [f for f in os.environ.get(VAR, "").split(os.pathsep) if f]


def load(name: str):
    """import `name` (the text after `py:`), from sys.path or else from the first folder that holds it."""
    top = name.split(".")[0]
    if top not in sys.modules and importlib.machinery.PathFinder.find_spec(top) is None:
        for folder in folders():
            if importlib.machinery.PathFinder.find_spec(top, [folder]) is not None:
                if folder not in sys.path:
                    sys.path.append(folder)
                break
    return importlib.import_module(name)


def where() -> str:
    """Where load() looks, for an error message."""
    places = ", ".join(folders())
    return f"PYTHONPATH and installed packages, then {places}" if places else "PYTHONPATH and installed packages"
