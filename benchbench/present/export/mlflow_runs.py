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

from benchbench.present.export.common import Format, configs, env_tags, need

METRICS_BATCH, PARAMS_BATCH = 1000, 100  # MLflow's limits per log_batch call


def write(df: pd.DataFrame, run: dict, env: dict, out: Path, tracking_uri: str | None = None, **_) -> str:
    need("mlflow", "mlflow", "mlflow")
    cfgs = configs(df)
    if tracking_uri is None:
        out.mkdir(parents=True, exist_ok=True)
        tracking_uri = out.resolve().as_uri()
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    name = run.get("suite") or "benchbench"
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
    return f"mlflow: {len(cfgs)} runs in experiment {name!r} at {tracking_uri}"


FORMAT = Format(write, "mlruns", "mlflow")
