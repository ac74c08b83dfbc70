"""--format mlflow: one MLflow run per config, written with MLflow's own client.

Default store: a local file store under the run directory (RUN/mlruns; MLflow 3 keeps that backend
in maintenance mode, so it is opted into with MLFLOW_ALLOW_FILE_STORE for this store only);
`--tracking-uri` sends the runs to a real server instead. The experiment is the suite's name. Each
run: params = the config's settings, tags = config id, status, benchbench run id and the machine
(env.*), metrics = the medians over ok repeats under their benchbench names, and `step_time_s` as a
series (one value per measured step).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from benchbench.present.export.common import Format, configs, env_tags, folder_beside, need

METRICS_BATCH, PARAMS_BATCH = 1000, 100  # MLflow's limits per log_batch call


def write(df: pd.DataFrame, run: dict, env: dict, out: Path, tracking_uri: str | None = None, **_) -> str:
    need("mlflow", "mlflow", "mlflow")
    cfgs = configs(df)
    if tracking_uri is not None:
        _log(cfgs, run, env, tracking_uri)
        return f"mlflow: {len(cfgs)} runs in experiment {_name(run)!r} at {tracking_uri}"
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    with folder_beside(out) as tmp:
        _log(cfgs, run, env, tmp.resolve().as_uri())
        _relocate(tmp, out)
    return f"mlflow: {len(cfgs)} runs in experiment {_name(run)!r} at {out.resolve().as_uri()}"


def _name(run: dict) -> str:
    return run.get("suite") or "benchbench"


def _relocate(tmp: Path, out: Path):
    """The file store writes absolute artifact locations into its meta.yaml files: point them at `out`."""
    pairs = [(tmp.resolve().as_uri(), out.resolve().as_uri()), (str(tmp.resolve()), str(out.resolve()))]
    for meta in tmp.rglob("meta.yaml"):
        text = meta.read_text(encoding="utf-8")
        new = text
        for a, b in pairs:
            new = new.replace(a, b)
        if new != text:
            meta.write_text(new, encoding="utf-8")


def _log(cfgs, run: dict, env: dict, tracking_uri: str):
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    name = _name(run)
    exp = client.get_experiment_by_name(name)
    exp_id = exp.experiment_id if exp else client.create_experiment(name)
    now = int(time.time() * 1000)
    for c in cfgs:
        tags = {"benchbench.config_id": c.config_id, "benchbench.status": c.status,
                "benchbench.run_id": str(run.get("run_id", "")), **env_tags(env)}
        r = client.create_run(exp_id, run_name=c.label, tags=tags)
        rid = r.info.run_id
        params = [Param(k, str(v)) for k, v in c.settings.items()]
        metrics = [Metric(m, v, now, 0) for m, v in c.metrics.items()]
        metrics += [Metric("step_time_s", t, now, i) for i, t in enumerate(c.step_times_s)]
        for i in range(0, len(params), PARAMS_BATCH):
            client.log_batch(rid, params=params[i:i + PARAMS_BATCH])
        for i in range(0, len(metrics), METRICS_BATCH):
            client.log_batch(rid, metrics=metrics[i:i + METRICS_BATCH])
        client.set_terminated(rid, "FINISHED" if c.status == "ok" else "FAILED")


FORMAT = Format(write, "mlruns", "mlflow")
