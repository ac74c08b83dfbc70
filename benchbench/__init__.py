"""benchbench: benchmark and profile deep-learning training optimizations.

The folders are the data flow:

    spec/      suite YAML -> validated Suite -> [RunConfig]
    sweep/     which configs run, in what order, one worker process per (config, repeat) -> rows
    worker/    the measuring process (python -m benchbench.worker): models/, techniques/, engines/, collectors/
    store/     rows.jsonl and the run directory, baselines, history
    analysis/  statistics (the repeat is the unit), compare, pivot, gate
    plan/      what needs no run: feasibility, memory model, max batch, run-time estimate
    present/   terminal tables, markdown, exports, the HTML report
    cli.py, commands/   the entry points
"""

import importlib

__version__ = "0.2.0"

# Modules users imported before the folders existed (CHANGELOG.md): `benchbench.results.load(...)`.
_MOVED = {"results": "benchbench.store.results"}


def __getattr__(name):
    if name in _MOVED:
        return importlib.import_module(_MOVED[name])
    raise AttributeError(f"module 'benchbench' has no attribute {name!r}")
