"""--format wandb: one Weights & Biases run per config, written offline with wandb's own client.

Runs are written in offline mode under OUT (default RUN/wandb: OUT/wandb/offline-run-*); nothing
is sent. Syncing is the user's step: `wandb sync OUT/wandb/offline-run-*`. The project is the
suite's name, each run named by its config's settings; config = the settings plus config id,
status and the machine (env.*); the summary = the medians over ok repeats under their benchbench
names; the history = `step_time_s`, one point per measured step.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from benchbench.present.export.common import Format, configs, env_tags, folder_beside, need


def write(df: pd.DataFrame, run: dict, env: dict, out: Path, **_) -> str:
    wandb = need("wandb", "wandb", "wandb")
    cfgs = configs(df)
    os.environ.setdefault("WANDB_SILENT", "true")
    settings = wandb.Settings(mode="offline", silent=True, console="off", save_code=False, disable_git=True,
                              x_disable_stats=True, x_disable_machine_info=True)
    project = run.get("suite") or "benchbench"
    with folder_beside(out) as tmp:
        try:
            for c in cfgs:
                _one(wandb, c, run, env, project, tmp, settings)
        finally:
            wandb.teardown()  # stops wandb's service: every offline run is on disk when this returns
    return f"wandb: {len(cfgs)} offline runs -> {out / 'wandb'} (upload: wandb sync {out / 'wandb'}/offline-run-*)"


def _one(wandb, c, run: dict, env: dict, project: str, out: Path, settings):
    config = {**c.settings, "config_id": c.config_id, "status": c.status,
              "benchbench_run_id": str(run.get("run_id", "")), **env_tags(env)}
    w = wandb.init(project=project, name=c.label, dir=str(out), config=config, mode="offline",
                   settings=settings, reinit="create_new", job_type="benchmark")
    try:
        for i, t in enumerate(c.step_times_s):
            w.log({"step_time_s": t}, step=i)
        w.summary.update(c.metrics)
    finally:
        w.finish(exit_code=0 if c.status == "ok" else 1)


FORMAT = Format(write, "wandb", "wandb")
