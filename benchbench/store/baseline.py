"""baselines/<name>.json: a run kept on purpose, for `benchbench gate`.

One JSON file holds everything the gate needs, so a baseline survives its run directory:

    kind, baseline_version      this file's format (BASELINE_VERSION); loading an older one migrates
                                (MIGRATIONS) or says exactly how to re-create it
    name, created_at, command   who made it and how
    suite, suite_sha256, smoke, overrides, run_id, baseline_config_id, config_ids   from run.json
    env                         env.json of the run (the gate refuses a different GPU/driver/torch/CUDA)
    rules                       the default gate rules ("tokens_per_s:-5%"), used when gate gets no --rule
    note                        free text: where the rules' thresholds come from
    summary                     per config: label, status, and per metric value, 95% CI and sample count
    rows                        the run's rows (schema_version = results.SCHEMA_VERSION), raw step times included
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchbench.basics.errors import UserError
from benchbench.store import results

KIND = "benchbench-baseline"
BASELINE_VERSION = 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# baseline_version -> function(dict) -> dict of the next version; none exist yet (version 1 is the first)
MIGRATIONS: dict[int, callable] = {}


BaselineError = UserError  # a baseline file that cannot be used: the message names the file and what to do


@dataclass
class Baseline:
    path: Path
    data: dict
    rows: pd.DataFrame = field(repr=False)

    @property
    def env(self) -> dict:
        return self.data.get("env") or {}

    @property
    def rules(self) -> list[str]:
        return list(self.data.get("rules") or [])


def read_run(run_dir: str | Path) -> tuple[pd.DataFrame, dict, dict]:
    """(rows, run.json, env.json) of a run directory; StoreError when it is not one."""
    run_dir = Path(run_dir)
    df = results.load(run_dir)
    for name in ("run.json", "env.json"):
        if not (run_dir / name).exists():
            raise results.StoreError(f"{run_dir}: no {name} (not a complete benchbench run directory)")
    return df, results.read_json(run_dir / "run.json"), results.read_json(run_dir / "env.json")


def _strict(x):
    """NaN/inf -> None, recursively: the file stays strict JSON (jq, GitHub's tools read it)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _strict(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_strict(v) for v in x]
    return x


def build(run_dir: str | Path, name: str, rules: list[str] | None = None, note: str = "",
          summary: list[dict] | None = None) -> dict:
    """The baseline file's data; `summary` is the per-config digest people read (analysis.compare.config_summary)."""
    df, run, env = read_run(run_dir)
    if df.empty:
        raise BaselineError(f"{run_dir}: the run has no rows; a baseline needs a finished run")
    if run.get("interrupted"):
        raise BaselineError(f"{run_dir}: the run was interrupted; finish it (benchbench run --resume {run_dir}) first")
    return _strict({
        "kind": KIND,
        "baseline_version": BASELINE_VERSION,
        "name": name,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "run_dir": str(run_dir),
        **{k: run.get(k) for k in ("run_id", "suite", "suite_sha256", "smoke", "overrides",
                                   "baseline_config_id", "config_ids")},
        "env": env,
        "rules": list(rules or []),
        "note": note,
        "summary": summary or [],
        "rows": results.read_rows(run_dir),  # as stored: full precision, raw step times
    })


def save(run_dir: str | Path, name: str, directory: str | Path = "baselines", rules: list[str] | None = None,
         note: str = "", force: bool = False, summary: list[dict] | None = None) -> Path:
    if not NAME.match(name):
        raise BaselineError(f"baseline name {name!r}: use letters, digits, '.', '_' and '-' (it becomes {name}.json)")
    path = Path(directory) / f"{name}.json"
    if path.exists() and not force:
        raise BaselineError(f"{path} exists; replacing a baseline is deliberate: add --force")
    data = build(run_dir, name, rules, note, summary)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_json(path, data)
    return path


def _redo(path: Path, data: dict) -> str:
    suite = data.get("suite") or "<suite>"
    return (f"re-create it from a run on the machine it stands for: benchbench run suites/{suite}.yaml -o RUN && "
            f"benchbench baseline save RUN --name {path.stem} --force")


def load(path: str | Path) -> Baseline:
    path = Path(path)
    if not path.is_file():
        hint = "; baselines/ holds: " + ", ".join(sorted(p.name for p in path.parent.glob("*.json"))) \
            if path.parent.is_dir() and any(path.parent.glob("*.json")) else ""
        raise BaselineError(f"{path}: no such baseline file{hint}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BaselineError(f"{path}: not JSON ({e})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise BaselineError(f"{path}: not a benchbench baseline (no \"kind\": \"{KIND}\"); "
                            f"make one with: benchbench baseline save RUN --name {path.stem}")
    version = data.get("baseline_version")
    if not isinstance(version, int):
        raise BaselineError(f"{path}: baseline_version missing or not an integer; {_redo(path, data)}")
    if version > BASELINE_VERSION:
        raise BaselineError(f"{path}: baseline_version {version} was written by a newer benchbench (this one reads up to "
                            f"{BASELINE_VERSION}); upgrade benchbench (pip install -U benchbench) or {_redo(path, data)}")
    while version < BASELINE_VERSION:
        if version not in MIGRATIONS:
            raise BaselineError(f"{path}: baseline_version {version} is older than {BASELINE_VERSION} and cannot be "
                                f"migrated; {_redo(path, data)}")
        data = MIGRATIONS[version](data)
        version = data["baseline_version"]
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        raise BaselineError(f"{path}: no \"rows\"; {_redo(path, data)}")
    bad = {r.get("schema_version") for r in rows} - {results.SCHEMA_VERSION}
    if bad:
        raise BaselineError(f"{path}: rows of schema_version {sorted(bad, key=str)}; this benchbench reads rows of "
                            f"schema_version {results.SCHEMA_VERSION}; {_redo(path, data)}")
    return Baseline(path=path, data=data, rows=pd.DataFrame(rows))
