import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Worker processes import test fixture models (model: py:tests.fixtures...) from the repo root.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def pytest_collection_modifyitems(config, items):
    if _has_cuda():
        return
    skip = pytest.mark.skip(reason="needs an NVIDIA GPU (run on a GPU machine: pytest -m gpu)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
