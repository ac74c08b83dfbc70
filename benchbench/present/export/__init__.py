"""A run in other tools' formats, one module per format. FORMATS: name -> Format.

Every format reads stored rows only. Config settings become the tool's params/tags/config, metrics
keep their benchbench names (units in the names). A format whose library is missing raises
ExportError naming the pip extra to install.
"""

from __future__ import annotations

from benchbench.present.export import (
    bencher,
    mlflow_runs,
    pytest_benchmark,
    tensorboard_events,
    wandb_offline,
)
from benchbench.present.export.common import ExportError, Format

FORMATS: dict[str, Format] = {
    "pytest-benchmark": pytest_benchmark.FORMAT,
    "bencher": bencher.FORMAT,
    "tensorboard": tensorboard_events.FORMAT,
    "mlflow": mlflow_runs.FORMAT,
    "wandb": wandb_offline.FORMAT,
}

__all__ = ["FORMATS", "ExportError", "Format"]
